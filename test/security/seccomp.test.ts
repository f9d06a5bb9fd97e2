// The Sentry's and the Gofer's seccomp allow lists, as an attacker who got code execution in
// either process would meet them: first by their verdicts (an interpreter of the program),
// then by the real kernel's, in a Node process that installs each filter on itself and tries
// what a compromised Sentry or Gofer would try.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { goferFilter } from '../../src/gofer/seccomp_filter.js';
import {
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  runFilter,
} from '../../src/platform/asm/bpf.js';
import { SENTRY_ALLOWED, sentryFilter } from '../../src/sentry/seccomp_filter.js';
import { REPO } from '../../testlib/cli_moat.js';

describe('allow-list filters (interpreted)', () => {
  const EPERM = SECCOMP_RET_ERRNO | 1;
  const sentry = sentryFilter();
  const gofer = goferFilter();
  it('kill x32 and foreign-architecture calls', () => {
    assert.equal(runFilter(sentry, 0x40000000 + 1), SECCOMP_RET_KILL_PROCESS);
    assert.equal(runFilter(gofer, 1, [], 0x40000003), SECCOMP_RET_KILL_PROCESS);
  });
  it('allow what they list and refuse the rest with EPERM', () => {
    for (const [nr] of SENTRY_ALLOWED)
      assert.equal(runFilter(sentry, nr), SECCOMP_RET_ALLOW, `sentry ${nr}`);
    for (const nr of [2, 257, 59, 41, 165, 272, 308, 304, 321, 248, 101 + 1000]) {
      assert.equal(runFilter(sentry, nr), EPERM, `sentry ${nr}`);
    }
    // open_by_handle_at, name_to_handle_at, open, execve, socket, mount, kill, ptrace.
    for (const nr of [304, 303, 2, 59, 41, 165, 62, 101]) {
      assert.equal(runFilter(gofer, nr), EPERM, `gofer ${nr}`);
    }
  });
  it('clone: threads only; clone3: ENOSYS (glibc falls back)', () => {
    const thread = BigInt(
      0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000 | 0x100000 | 0x200000,
    );
    assert.equal(runFilter(sentry, 56, [thread]), SECCOMP_RET_ALLOW);
    assert.equal(runFilter(sentry, 56, [17n]), EPERM, 'a new process');
    assert.equal(runFilter(gofer, 56, [thread | 0x10000000n]), EPERM, 'CLONE_NEWUSER');
    assert.equal(runFilter(gofer, 56, [thread | 0x00800000n]), EPERM, 'CLONE_UNTRACED');
    assert.equal(runFilter(gofer, 56, [thread | (1n << 32n)]), EPERM, 'high bits');
    assert.equal(runFilter(sentry, 435), SECCOMP_RET_ERRNO | 38);
  });
  it('ioctl: no terminal input injection; prctl: no privilege changes', () => {
    assert.equal(runFilter(sentry, 16, [1n, 0x5401n]), SECCOMP_RET_ALLOW, 'TCGETS');
    assert.equal(runFilter(sentry, 16, [0n, 0x5412n]), EPERM, 'TIOCSTI');
    assert.equal(runFilter(gofer, 157, [15n]), SECCOMP_RET_ALLOW, 'PR_SET_NAME');
    for (const o of [1n, 4n, 8n, 22n, 24n, 38n, 47n])
      assert.equal(runFilter(gofer, 157, [o]), EPERM, `prctl ${o}`);
  });
  it('the Gofer opens only relative to a directory it holds', () => {
    assert.equal(runFilter(gofer, 257, [5n, 0n, 0n]), SECCOMP_RET_ALLOW);
    assert.equal(runFilter(gofer, 257, [BigInt.asUintN(64, -100n), 0n, 0n]), EPERM);
    assert.equal(runFilter(sentry, 257, [5n, 0n, 0n]), EPERM, 'the Sentry opens nothing');
  });
});

describe('allow-list filters (the kernel)', () => {
  function probe(which: string): Record<string, string> {
    const r = spawnSync(
      process.execPath,
      [path.join(REPO, 'dist/testlib/seccomp_probe.js'), which],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, string>;
  }
  it('a process under the Gofer’s filter reads what it holds, makes threads, and nothing else', () => {
    const r = probe('gofer');
    assert.deepEqual(r, {
      readHeld: 'ok',
      openAbsolute: 'EPERM',
      spawn: 'EPERM',
      signalOther: 'EPERM',
      socket: 'EPERM',
      thread: 'ok',
      timer: 'ok',
    });
  });
  it('a process under the Sentry’s filter: no open, no new process, no socket', () => {
    const r = probe('sentry');
    assert.deepEqual(r, {
      readHeld: 'ok',
      openAbsolute: 'EPERM',
      spawn: 'EPERM',
      signalOther: 'ok',
      socket: 'EPERM',
      thread: 'ok',
      timer: 'ok',
    });
  });
});
