// Unit tests of the container seccomp profile's compilation: argument conditions (as
// libseccomp defines them), the most severe of several matching rules, names of other
// architectures, and what moat refuses.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeccompProfileError, compileSeccomp } from './app_seccomp.js';
import type { Task } from './task.js';

const task = { tgid: 1, regs: [] } as unknown as Task;
const quiet = (): void => undefined;
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
    const f = compileSeccomp(
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          {
            names: ['umask'],
            action: 'SCMP_ACT_ERRNO',
            errnoRet: 9,
            args: [{ index: 0, value: 0o700, valueTwo: 0o200, op: 'SCMP_CMP_MASKED_EQ' }],
          },
        ],
      },
      quiet,
    );
    assert.equal(f(task, 95, args(0o222n)), -9n);
    assert.equal(f(task, 95, args(0o022n)), undefined);
  });
  it('the most severe matching rule wins; other architectures’ names are skipped', () => {
    const f = compileSeccomp(
      {
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
      },
      quiet,
    );
    assert.equal(f(task, 110, args(0n)), undefined);
    assert.equal(f(task, 110, args(5n)), -13n);
    assert.equal(f(task, 39, args()), -38n);
  });
  it('refuses NOTIFY and unknown flags', () => {
    const notify = { defaultAction: 'SCMP_ACT_NOTIFY' };
    assert.throws(() => compileSeccomp(notify, quiet), SeccompProfileError);
    const flags = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW'] };
    assert.throws(() => compileSeccomp(flags, quiet), /unknown flag/);
  });
});
