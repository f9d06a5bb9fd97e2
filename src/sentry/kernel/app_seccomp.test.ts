// Unit tests of the container seccomp profile's compilation: argument conditions (as
// libseccomp defines them), the most severe of several matching rules, names of other
// architectures, and what moat refuses.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeccompProfileError, compileSeccomp } from './app_seccomp.js';
import {
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
} from './task_seccomp.js';

const args = (a0 = 0n): [bigint, bigint, bigint, bigint, bigint, bigint] => [
  a0,
  0n,
  0n,
  0n,
  0n,
  0n,
];

describe('app seccomp profile', () => {
  it('MASKED_EQ compares (arg & value) with valueTwo', () => {
    const f = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['umask'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 9,
          args: [{ index: 0, value: 0o700, valueTwo: 0o200, op: 'SCMP_CMP_MASKED_EQ' }],
        },
      ],
    });
    assert.equal(f(95, args(0o222n)), SECCOMP_RET_ERRNO | 9);
    assert.equal(f(95, args(0o022n)), SECCOMP_RET_ALLOW);
  });
  it('the most severe matching rule wins; other architectures’ names are skipped', () => {
    const f = compileSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { names: ['getppid', 'arm_fadvise64_64'], action: 'SCMP_ACT_ALLOW' },
        {
          names: ['getppid'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 13,
          args: [{ index: 0, value: 1, op: 'SCMP_CMP_GE' }],
        },
      ],
    });
    assert.equal(f(110, args(0n)), SECCOMP_RET_ALLOW);
    assert.equal(f(110, args(5n)), SECCOMP_RET_ERRNO | 13);
    assert.equal(f(39, args()), SECCOMP_RET_ERRNO | 38);
  });
  it('KILL is KILL_THREAD as libseccomp defines it, and KILL_PROCESS is more severe', () => {
    const f = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['getppid'], action: 'SCMP_ACT_KILL' },
        { names: ['getpid'], action: 'SCMP_ACT_KILL' },
        { names: ['getpid'], action: 'SCMP_ACT_KILL_PROCESS' },
      ],
    });
    assert.equal(f(110, args()), SECCOMP_RET_KILL_THREAD);
    assert.equal(f(39, args()) >>> 0, SECCOMP_RET_KILL_PROCESS);
  });
  it('refuses NOTIFY and unknown flags', () => {
    const notify = { defaultAction: 'SCMP_ACT_NOTIFY' };
    assert.throws(() => compileSeccomp(notify), SeccompProfileError);
    const flags = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW'] };
    assert.throws(() => compileSeccomp(flags), /unknown flag/);
  });
});
