// Exhaustion from inside a container, bounded, as under runc: threads until the pids limit,
// descriptors until RLIMIT_NOFILE (of a device and of a file on a bind mount — which must not
// make the Sentry or the Gofer hold a host descriptor per open), and a bind mount's disk filled
// (a 1 MiB host tmpfs) until ENOSPC.

import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRecord } from '../../src/oci/state_types.js';
import { HOST_FD_BUDGET } from '../../src/sandbox/stage_script.js';
import { makeBusyboxBundle, tempDir } from '../../testlib/bundle.js';
import { MOAT, REPO, cleanupRoot, waitNoProcesses } from '../../testlib/cli_moat.js';
import {
  describeResult,
  runMoatBundle,
  runRuncBundle,
  runtimeUnavailable,
} from '../../testlib/runners.js';

let dir = '';
let disk = '';
let prog = '';

before(() => {
  dir = tempDir('exhaustion');
  prog = path.join(dir, 'exhaust');
  execFileSync('gcc', [
    '-O1',
    '-static',
    '-pthread',
    '-o',
    prog,
    `${REPO}/test/fixtures/exhaust.c`,
  ]);
  fs.mkdirSync(path.join(dir, 'host'));
  fs.writeFileSync(path.join(dir, 'host', 'f'), 'x');
  disk = path.join(dir, 'disk');
  fs.mkdirSync(disk);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'moat-test-disk', disk]);
});

after(async () => {
  spawnSync('umount', [disk]);
  await cleanupRoot(path.join(dir, 'state'));
  await waitNoProcesses(dir, 5000);
  fs.rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function bundle(script: string, pids?: number): string {
  n++;
  const b = makeBusyboxBundle(path.join(dir, `b${n}`), {
    args: ['sh', '-c', script],
    files: [[prog, 'bin/exhaust']],
    mounts: [
      { destination: '/data', type: 'bind', source: path.join(dir, 'host'), options: ['rbind'] },
      { destination: '/disk', type: 'bind', source: disk, options: ['rbind'] },
    ],
  });
  if (pids !== undefined) {
    const file = path.join(b, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { linux: Record<string, unknown> };
    cfg.linux['resources'] = { pids: { limit: pids } };
    cfg.linux['cgroupsPath'] = `moat-exhaust-${process.pid}-${n}`;
    fs.writeFileSync(file, JSON.stringify(cfg));
  }
  return b;
}

describe('exhaustion, moat vs runc', { skip: runtimeUnavailable('runc') ?? false }, () => {
  function both(b: string): string {
    const runc = runRuncBundle(b, { timeoutMs: 60_000 });
    const moat = runMoatBundle(b, { timeoutMs: 60_000 });
    assert.equal(moat.stdout, runc.stdout, `moat:\n${moat.stderr}\nrunc:\n${runc.stderr}`);
    assert.equal(moat.status, runc.status, describeResult(moat));
    return moat.stdout;
  }

  it('threads stop at the pids limit', () => {
    // The shell execs the program: it and its 49 threads make the 50.
    assert.equal(both(bundle('exhaust threads 1000', 50)), 'threads 49 EAGAIN\n');
  });

  it('descriptors stop at RLIMIT_NOFILE, for a device and for a bind-mounted file', () => {
    const out = both(bundle('exhaust fds /dev/null; exhaust fds /data/f'));
    assert.equal(out, 'fds 1021 EMFILE\nfds 1021 EMFILE\n');
  });

  it('a bind mount’s disk fills up to ENOSPC and no further', () => {
    const script =
      'head -c 2000000 /dev/zero > /disk/big 2>/dev/null; echo "head $?"; wc -c < /disk/big; rm /disk/big';
    const out = both(bundle(script));
    assert.match(out, /^head 1\n\d+\n$/);
  });
});

describe('a thousand opens of one file on a writable bind mount', () => {
  it('cost one host descriptor each in the Sentry and the Gofer, and no more', async () => {
    const root = path.join(dir, 'state');
    const b = bundle('exhaust fds /data/f hold');
    const child = spawn(process.execPath, [MOAT, '--root', root, 'run', '--bundle', b, 'fds'], {
      stdio: ['pipe', 'pipe', 'inherit'],
      cwd: REPO,
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (out += s));
    for (let k = 0; k < 300 && !out.includes('fds '); k++) await sleep(50);
    assert.match(out, /^fds 1021 EMFILE$/m);
    const rec = JSON.parse(
      fs.readFileSync(path.join(root, 'fds', 'state.json'), 'utf8'),
    ) as ContainerRecord;
    const count = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;
    const sentry = rec.sandbox.sentry?.pid ?? -1;
    const gofers = (rec.sandbox.mountGofers ?? []).flatMap((g) =>
      fs
        .readFileSync(`/proc/${g.pid}/task/${g.pid}/children`, 'utf8')
        .trim()
        .split(' ')
        .map(Number),
    );
    const held = { sentry: count(sentry), gofers: gofers.map(count) };
    const limits = fs.readFileSync(`/proc/${sentry}/limits`, 'utf8');
    child.stdin.end();
    await new Promise((res) => child.once('exit', res));
    // Each open description is a real open on the host (writes, offsets); the container's
    // RLIMIT_NOFILE bounds them, and each process's own (at most HOST_FD_BUDGET) bounds all.
    assert.ok(held.sentry <= 1021 + 100, `the Sentry held ${held.sentry} host fds`);
    for (const g of held.gofers) assert.ok(g <= 1021 + 100, `a Gofer held ${g} host fds`);
    const nofile = /^Max open files\s+(\d+)\s+(\d+)/m.exec(limits);
    assert.ok(nofile !== null && Number(nofile[2]) <= HOST_FD_BUDGET, limits);
  });
});
