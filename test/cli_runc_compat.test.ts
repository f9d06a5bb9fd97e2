// moat against its real peer: the same invocations under runc and moat must agree on exit
// statuses (errors, `delete --force` of a missing container, `run`'s exit status on the
// same busybox bundle) and on the `list` table header. Skipped, with the reason, when runc
// is not installed. Each runtime gets its own temporary state root, removed afterwards.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import { cleanupRoot, moat } from '../testlib/cli_moat.js';

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));
const skip = RUNC === undefined ? 'runc is not installed' : false;

const base = tempDir('cli-compat');
const runcRoot = path.join(base, 'runc');
const moatRoot = path.join(base, 'moat');
after(async () => {
  if (RUNC !== undefined) {
    for (const id of ['x3']) spawnSync(RUNC, ['--root', runcRoot, 'delete', '--force', id]);
  }
  await cleanupRoot(moatRoot);
  fs.rmSync(base, { recursive: true, force: true });
});

function runc(args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(RUNC ?? 'runc', ['--root', runcRoot, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout };
}

describe('runc compatibility', { skip }, () => {
  it('agrees on exit statuses of failing and idempotent commands', () => {
    for (const args of [
      ['state', 'nosuch'],
      ['start', 'nosuch'],
      ['kill', 'nosuch'],
      ['kill', 'nosuch', 'KILL'],
      ['delete', 'nosuch'],
      ['delete', '--force', 'nosuch'],
      ['state'],
      ['list'],
    ]) {
      assert.equal(moat(moatRoot, args).status, runc(args).status, args.join(' '));
    }
  });

  it('prints the same list header', () => {
    assert.equal(moat(moatRoot, ['list']).stdout, runc(['list']).stdout);
  });

  it('returns the same exit status from run on the same bundle', () => {
    const bundle = makeBusyboxBundle(path.join(base, 'bundle'), {
      args: ['sh', '-c', 'exit 3'],
    });
    const viaRunc = runc(['run', '--bundle', bundle, 'x3']);
    const viaMoat = moat(moatRoot, ['run', '--bundle', bundle, 'x3']);
    assert.equal(viaRunc.status, 3);
    assert.equal(viaMoat.status, viaRunc.status);
  });
});
