// Concurrent commands on one container are serialized: of several simultaneous `create`s of
// one id exactly one wins, and of several simultaneous `start`s exactly one succeeds. Runs
// bin/moat.js as separate processes on the real sandbox; cleans up what it recorded.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import { MOAT, REPO, cleanupRoot, moat } from '../testlib/cli_moat.js';

const base = tempDir('cli-conc');
const root = path.join(base, 'state');
after(async () => {
  await cleanupRoot(root);
  fs.rmSync(base, { recursive: true, force: true });
});

/** Runs moat asynchronously (so that several run at once); resolves with its exit status. */
function moatAsync(args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MOAT, '--root', root, ...args], {
      stdio: 'ignore',
      cwd: REPO,
    });
    child.on('exit', (code) => resolve(code));
  });
}

describe('concurrent commands', () => {
  it('one create and one start win', async () => {
    const bundle = makeBusyboxBundle(path.join(base, 'b'), { args: ['sleep', '2'] });
    const creates = await Promise.all(
      [1, 2, 3].map(() => moatAsync(['create', '--bundle', bundle, 'c'])),
    );
    assert.equal(creates.filter((s) => s === 0).length, 1, `create statuses ${creates.join()}`);
    const starts = await Promise.all([1, 2, 3].map(() => moatAsync(['start', 'c'])));
    assert.equal(starts.filter((s) => s === 0).length, 1, `start statuses ${starts.join()}`);
    const del = moat(root, ['delete', '--force', 'c']);
    assert.equal(del.status, 0, del.stderr);
    assert.deepEqual(fs.readdirSync(root), []);
  });
});
