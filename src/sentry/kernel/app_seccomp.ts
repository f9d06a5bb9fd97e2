// The container's own seccomp profile (config.json linux.seccomp), compiled once into a filter
// the Sentry runs on every system call of the application before it is emulated, as gVisor
// does: the host kernel never sees those calls, so a host filter could not. A call is checked
// against its rules (all of a rule's argument conditions must hold; of several matching rules
// the most severe action wins, as the kernel's filters combine), else the default action
// applies. The result is a kernel-style return value (SECCOMP_RET_* | data); task_seccomp.ts
// combines it with the application's own filters (this one is the oldest) and carries it out.
//
// Actions, as libseccomp maps them: SCMP_ACT_ALLOW; SCMP_ACT_ERRNO (errnoRet, EPERM by
// default); SCMP_ACT_KILL and KILL_THREAD (the thread dies of SIGSYS, the process with it when
// it was the last), KILL_PROCESS; SCMP_ACT_TRAP (SIGSYS with si_code SYS_SECCOMP, si_syscall,
// si_arch and si_errno); SCMP_ACT_LOG; SCMP_ACT_TRACE (no tracer: ENOSYS). SCMP_ACT_NOTIFY
// needs a listener, which moat does not offer: a profile using it is refused at boot. Names of
// other architectures' calls are skipped, as runc skips them. Never throws on application
// input.

import { Errno } from '../../abi/linux/errno.js';
import type { SpecSeccomp } from '../../oci/spec_types.js';
import { SYSCALL_NAMES } from '../../abi/linux/syscall_names.js';
import type { SyscallArgs } from '../syscalls/types.js';
import {
  type ProfileFilter,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
} from './task_seccomp.js';

/** linux.seccomp as validated (oci/spec_types.ts). */
export type SeccompProfile = SpecSeccomp;

/** A kernel-style return value: SECCOMP_RET_* | its 16 bits of data. */
type Action = number;

interface Cond {
  index: number;
  value: bigint;
  valueTwo: bigint;
  op: string;
}

interface Rule {
  action: Action;
  conds: Cond[];
}

const KNOWN_FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

const NUMBERS = new Map<string, number>([...SYSCALL_NAMES].map(([nr, name]) => [name, nr]));

export class SeccompProfileError extends Error {}

function action(name: string, errnoRet: number | undefined): Action {
  switch (name) {
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET_ALLOW;
    case 'SCMP_ACT_ERRNO':
      return SECCOMP_RET_ERRNO | ((errnoRet ?? Errno.EPERM) & 0xffff);
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET_KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET_TRAP;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET_LOG;
    case 'SCMP_ACT_TRACE':
      return SECCOMP_RET_TRACE | ((errnoRet ?? 0) & 0xffff);
    case 'SCMP_ACT_NOTIFY':
      throw new SeccompProfileError(
        'linux.seccomp: SCMP_ACT_NOTIFY needs a seccomp listener, which moat does not support',
      );
    default:
      throw new SeccompProfileError(`linux.seccomp: unknown action "${name}"`);
  }
}

/** The kernel's order of actions: lower (as a signed number) is more severe. */
function severer(a: Action, b: Action): boolean {
  return (a & 0xffff0000) >> 0 < (b & 0xffff0000) >> 0;
}

function holds(c: Cond, args: SyscallArgs): boolean {
  const v = args[c.index] ?? 0n;
  switch (c.op) {
    case 'SCMP_CMP_NE':
      return v !== c.value;
    case 'SCMP_CMP_LT':
      return v < c.value;
    case 'SCMP_CMP_LE':
      return v <= c.value;
    case 'SCMP_CMP_EQ':
      return v === c.value;
    case 'SCMP_CMP_GE':
      return v >= c.value;
    case 'SCMP_CMP_GT':
      return v > c.value;
    case 'SCMP_CMP_MASKED_EQ':
      return (v & c.value) === c.valueTwo;
    default:
      return false;
  }
}

/** Compiles a validated profile; throws SeccompProfileError for what moat cannot enforce. */
export function compileSeccomp(profile: SeccompProfile): ProfileFilter {
  for (const f of profile.flags ?? []) {
    if (!KNOWN_FLAGS.includes(f))
      throw new SeccompProfileError(`linux.seccomp: unknown flag "${f}"`);
  }
  const deflt = action(profile.defaultAction, profile.defaultErrnoRet);
  const rules = new Map<number, Rule[]>();
  for (const r of profile.syscalls ?? []) {
    const a = action(r.action, r.errnoRet);
    const conds = (r.args ?? []).map((c) => ({
      index: c.index,
      value: BigInt(c.value),
      valueTwo: BigInt(c.valueTwo ?? 0),
      op: c.op,
    }));
    for (const name of r.names) {
      const nr = NUMBERS.get(name);
      if (nr === undefined) continue; // another architecture's call
      const list = rules.get(nr) ?? [];
      list.push({ action: a, conds });
      rules.set(nr, list);
    }
  }
  return (nr: number, args: SyscallArgs): Action => {
    const list = rules.get(nr);
    if (list === undefined) return deflt;
    let best: Action | undefined;
    for (const r of list) {
      if (!r.conds.every((c) => holds(c, args))) continue;
      if (best === undefined || severer(r.action, best)) best = r.action;
    }
    return best ?? deflt;
  };
}
