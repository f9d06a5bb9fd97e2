// A symlink swap racing the Gofer, as an attacker with a foot on the host side of a bind mount
// would stage it: while the container reads a file under a directory, something on the host
// swaps that directory for a symlink to a directory outside the mount, over and over; and
// between reads the container walks more than 4,096 files (4,200, three times), so that the Sentry's fid cache is
// cycled and every read walks again by name. The content from outside must never reach the
// container.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeBusyboxBundle, tempDir } from '../../testlib/bundle.js';
import { cleanupRoot, moat, waitNoProcesses } from '../../testlib/cli_moat.js';

let dir = '';

before(() => {
  dir = tempDir('gofer-race');
  const data = path.join(dir, 'data');
  fs.mkdirSync(path.join(data, 'many'), { recursive: true });
  for (let i = 0; i < 4200; i++) fs.writeFileSync(path.join(data, 'many', `f${i}`), '');
  fs.mkdirSync(path.join(data, 'swap'));
  fs.writeFileSync(path.join(data, 'swap', 'secret'), 'inside\n');
  fs.mkdirSync(path.join(dir, 'outside'));
  fs.writeFileSync(path.join(dir, 'outside', 'secret'), 'OUTSIDE\n');
});

after(async () => {
  await cleanupRoot(path.join(dir, 'state'));
  await waitNoProcesses(dir, 5000);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('symlink swaps racing the Gofer', () => {
  it('never serve a file from outside the mount, with the fid cache cycled', async () => {
    const data = path.join(dir, 'data');
    // The host side: swap data/swap for a symlink to ../outside and back, for a bounded time.
    const swapper = spawn(
      '/bin/sh',
      [
        '-c',
        // Once the container has read the file (it leaves /data/ready), for 20 s at most.
        'n=0; while [ ! -e ready ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done; ' +
          'end=$(($(date +%s) + 20)); while [ $(date +%s) -lt $end ]; do ' +
          'mv swap swap.real && ln -s ../outside swap && rm swap && mv swap.real swap && sleep 0.005; done',
      ],
      { cwd: data, stdio: 'ignore' },
    );
    const bundle = makeBusyboxBundle(path.join(dir, 'bundle'), {
      args: [
        'sh',
        '-c',
        'cat /data/swap/secret; touch /data/ready; ' +
          'i=0; while [ $i -lt 3 ]; do cat /data/many/* > /dev/null; ' +
          'j=0; while [ $j -lt 30 ]; do cat /data/swap/secret 2>/dev/null; j=$((j + 1)); done; ' +
          'i=$((i + 1)); done; echo done',
      ],
      mounts: [{ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] }],
    });
    let r;
    try {
      r = moat(path.join(dir, 'state'), ['run', '--bundle', bundle, 'race'], {
        timeoutMs: 120_000,
      });
    } finally {
      if (swapper.pid !== undefined) process.kill(swapper.pid, 'SIGKILL');
      await new Promise((res) => swapper.once('exit', res));
    }
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done\n$/);
    assert.doesNotMatch(
      r.stdout,
      /OUTSIDE/,
      'content from outside the mount reached the container',
    );
    assert.match(r.stdout, /^inside\n/, 'the read before the race went through');
  });
});
