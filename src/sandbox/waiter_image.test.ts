// The sandbox waiter, run for real: it must end as its child ended, keep nothing while it
// waits (capabilities, fds), survive SIGINT/SIGTERM as `unshare --fork` does, take its child
// with it when it dies, and its filter must allow nothing but waiting.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFilter, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS } from '../platform/asm/bpf.js';
import {
  WAITER_EXEC_FAILED,
  WAITER_FAILED,
  buildWaiterImage,
  installWaiter,
  waiterFilter,
} from './waiter_image.js';

const root = process.geteuid?.() === 0;
let dir = '';
let waiter = '';

function field(pid: number, name: string): string {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
}

function childOf(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting: ${what}`);
}

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('sandbox waiter', { skip: root ? false : 'needs root (it makes namespaces)' }, () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-waiter-'));
    waiter = path.join(dir, 'moat-waiter');
    installWaiter(waiter);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is a static ELF executable whose code is all ours (listing beside it)', () => {
    const { bytes, listing } = buildWaiterImage();
    assert.deepEqual([...bytes.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    assert.match(listing, /syscall/);
    assert.equal(fs.statSync(waiter).mode & 0o777, 0o755);
    installWaiter(waiter); // again: unchanged, not rewritten
    assert.deepEqual(fs.readFileSync(waiter), Buffer.from(bytes));
  });

  it('ends with its child’s exit status; 127 when the exec fails, 125 without a program', () => {
    const r = spawnSync(waiter, ['/bin/sh', '-c', 'echo "$$ $0 $1"; exit 7', 'a0', 'a1']);
    assert.equal(r.status, 7);
    assert.equal(r.stdout.toString(), '1 a0 a1\n', 'pid 1 of a new pid namespace, argv intact');
    assert.equal(spawnSync(waiter, ['/nonexistent']).status, WAITER_EXEC_FAILED);
    assert.equal(spawnSync(waiter, []).status, WAITER_FAILED);
  });

  it('passes the environment on and runs the child in new namespaces', () => {
    const r = spawnSync(
      waiter,
      [
        '/bin/sh',
        '-c',
        'echo $MOAT_X; for n in user mnt net ipc uts pid; do readlink /proc/self/ns/$n; done',
      ],
      { env: { MOAT_X: 'kept' } },
    );
    const [env, ...nss] = r.stdout.toString().trim().split('\n');
    assert.equal(env, 'kept');
    const kinds = ['user', 'mnt', 'net', 'ipc', 'uts', 'pid'];
    nss.forEach((n, i) => {
      const kind = kinds[i] ?? '';
      assert.notEqual(n, fs.readlinkSync(`/proc/self/ns/${kind}`), kind);
    });
  });

  it('waits holding nothing: no capability, stdio only, no_new_privs, a filter', async () => {
    const extra = fs.openSync('/dev/null', 'r');
    const child = spawn(waiter, ['/bin/sleep', '30'], {
      stdio: ['ignore', 'ignore', 'ignore', extra],
    });
    fs.closeSync(extra);
    const pid = child.pid ?? -1;
    const exited = new Promise<[number | null, string | null]>((r) =>
      child.once('exit', (c, s) => r([c, s])),
    );
    try {
      await until(() => fs.readFileSync(`/proc/${pid}/wchan`, 'utf8') === 'do_wait', 'waiting');
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
        assert.equal(field(pid, set), '0000000000000000', set);
      }
      assert.equal(field(pid, 'NoNewPrivs'), '1');
      assert.equal(field(pid, 'Seccomp'), '2');
      assert.deepEqual(fs.readdirSync(`/proc/${pid}/fd`).sort(), ['0', '1', '2']);
      const sleeper = childOf(pid);
      assert.equal(
        fs.readlinkSync(`/proc/${sleeper}/fd/3`),
        '/dev/null',
        'the child keeps its fds',
      );
      // SIGINT and SIGTERM are for the child's stage, not the waiter (as unshare --fork).
      process.kill(pid, 'SIGTERM');
      process.kill(pid, 'SIGINT');
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(alive(pid), 'the waiter ignores SIGTERM and SIGINT');
      // The child dies of SIGKILL: so does the waiter (not of the SIGTERM it holds pending).
      process.kill(sleeper, 'SIGKILL');
      assert.deepEqual(await exited, [null, 'SIGKILL']);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('dies of the signal that killed its child', () => {
    // pid 1 of a namespace ignores the signals it sends itself; a fault is forced.
    const r = spawnSync(waiter, ['/usr/bin/python3', '-c', 'import ctypes; ctypes.string_at(0)']);
    assert.equal(r.signal, 'SIGSEGV');
  });

  it('takes its child with it when it is killed', async () => {
    const child = spawn(waiter, ['/bin/sleep', '30'], { stdio: 'ignore' });
    const pid = child.pid ?? -1;
    await until(() => fs.readFileSync(`/proc/${pid}/wchan`, 'utf8') === 'do_wait', 'waiting');
    const sleeper = childOf(pid);
    process.kill(pid, 'SIGKILL');
    await until(() => !alive(sleeper), 'the child gone');
  });

  it('its filter allows waiting, exiting and killing itself, and nothing else', () => {
    const f = waiterFilter(4242);
    const allow = (nr: number, args: bigint[] = []): boolean =>
      runFilter(f, nr, args) === SECCOMP_RET_ALLOW;
    for (const nr of [61, 60, 231, 14]) assert.ok(allow(nr), `call ${nr}`);
    assert.ok(allow(62, [4242n, 9n]), 'kill of itself');
    assert.ok(!allow(62, [1n, 9n]), 'kill of another pid');
    assert.ok(!allow(62, [4242n + (1n << 32n), 9n]), 'kill with high bits set');
    for (const nr of [0, 1, 2, 56, 57, 59, 101, 157, 165, 257, 272, 304, 435]) {
      assert.equal(runFilter(f, nr), SECCOMP_RET_KILL_PROCESS, `call ${nr}`);
    }
    assert.equal(runFilter(f, 61 | 0x40000000), SECCOMP_RET_KILL_PROCESS, 'x32');
    assert.equal(runFilter(f, 61, [], 0x40000003), SECCOMP_RET_KILL_PROCESS, 'i386');
  });
});
