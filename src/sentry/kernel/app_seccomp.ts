// The container's own seccomp profile (config.json linux.seccomp), enforced by the Sentry on
// every system call of the application before it is emulated, as gVisor does: the host
// kernel never sees those calls, so a host filter could not. The profile is compiled once
// into a table by syscall number; a call is checked against its rules (all of a rule's
// argument conditions must hold; of several matching rules the most severe action wins, as
// the kernel's filters combine), else the default action applies.
//
// Actions: SCMP_ACT_ALLOW; SCMP_ACT_ERRNO (errnoRet, EPERM by default); SCMP_ACT_KILL,
// KILL_THREAD and KILL_PROCESS (the process dies of SIGSYS, with a core); SCMP_ACT_TRAP (SIGSYS
// with si_code SYS_SECCOMP, si_syscall, si_arch and si_errno; the call is not made and its
// registers roll back, so rax holds the call's number, as Linux's syscall_rollback);
// SCMP_ACT_LOG (allowed, and logged); SCMP_ACT_TRACE (no tracer: ENOSYS). SCMP_ACT_NOTIFY
// needs a listener, which moat does not offer: a profile using it is refused at boot.
// Names of other architectures' calls are skipped, as runc skips them. Never throws on
// application input.

import { Errno } from '../../abi/linux/errno.js';
import type { SpecSeccomp } from '../../oci/spec_types.js';
import { SYSCALL_NAMES } from '../../abi/linux/syscall_names.js';
import type { SyscallArgs } from '../syscalls/types.js';
import { Reg } from '../../platform/platform.js';
import { forceFault } from './signals.js';
import type { Task } from './task.js';

/** linux.seccomp as validated (oci/spec_types.ts). */
export type SeccompProfile = SpecSeccomp;

type Kind = 'allow' | 'errno' | 'kill' | 'trap' | 'log' | 'trace';

interface Action {
  kind: Kind;
  errno: number;
}

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

/** Severity, as the kernel orders filter results: the most severe matching action wins. */
const SEVERITY: Record<Kind, number> = { kill: 5, trap: 4, errno: 3, trace: 2, log: 1, allow: 0 };

const SIGSYS = 31;
const SYS_SECCOMP = 1;
const AUDIT_ARCH_X86_64 = 0xc000003e;
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
      return { kind: 'allow', errno: 0 };
    case 'SCMP_ACT_ERRNO':
      return { kind: 'errno', errno: errnoRet ?? Errno.EPERM };
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
    case 'SCMP_ACT_KILL_PROCESS':
      return { kind: 'kill', errno: 0 };
    case 'SCMP_ACT_TRAP':
      return { kind: 'trap', errno: 0 };
    case 'SCMP_ACT_LOG':
      return { kind: 'log', errno: 0 };
    case 'SCMP_ACT_TRACE':
      return { kind: 'trace', errno: errnoRet ?? 0 };
    case 'SCMP_ACT_NOTIFY':
      throw new SeccompProfileError(
        'linux.seccomp: SCMP_ACT_NOTIFY needs a seccomp listener, which moat does not support',
      );
    default:
      throw new SeccompProfileError(`linux.seccomp: unknown action "${name}"`);
  }
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

/** A checker for `profile`: undefined to let a call through, else the call's result. */
export type AppSeccomp = (t: Task, nr: number, args: SyscallArgs) => bigint | undefined;

/** Compiles a validated profile; throws SeccompProfileError for what moat cannot enforce. */
export function compileSeccomp(profile: SeccompProfile, log: (m: string) => void): AppSeccomp {
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
  const verdict = (nr: number, args: SyscallArgs): Action => {
    const list = rules.get(nr);
    if (list === undefined) return deflt;
    let best: Action | undefined;
    for (const r of list) {
      if (!r.conds.every((c) => holds(c, args))) continue;
      if (best === undefined || SEVERITY[r.action.kind] > SEVERITY[best.kind]) best = r.action;
    }
    return best ?? deflt;
  };
  return (t, nr, args) => {
    const v = verdict(nr, args);
    switch (v.kind) {
      case 'allow':
        return undefined;
      case 'log':
        log(`seccomp: process ${t.tgid} system call ${nr} (logged, allowed)`);
        return undefined;
      case 'errno':
        return BigInt(-v.errno);
      case 'trace':
        return BigInt(-Errno.ENOSYS);
      case 'kill':
        t.exit = { kind: 'killed', signo: SIGSYS, core: false };
        return BigInt(-Errno.ENOSYS);
      case 'trap':
        // Delivered before the task runs again, after the result is in rax.
        forceFault(t, {
          signo: SIGSYS,
          code: SYS_SECCOMP,
          addr: t.regs[Reg.rip] ?? 0n,
          syscall: nr,
          arch: AUDIT_ARCH_X86_64,
          errno: v.errno,
        });
        return BigInt(nr);
    }
  };
}
