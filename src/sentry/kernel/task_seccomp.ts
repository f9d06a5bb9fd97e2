// Seccomp as the application sees it: the mode of each task (none, strict, filter), the chain
// of filters it attached itself (seccomp(2), prctl(PR_SET_SECCOMP)), the container's profile
// (config.json linux.seccomp, app_seccomp.ts) as the oldest filter of every task, and what the
// combined verdict does to a call. Checked in the dispatch before a call is emulated: the
// host never sees the application's calls, so a host filter could not do this.
//
// A chain is immutable and shared: fork, clone and execve keep it, a new filter links in front
// of it. Filters run newest first; the most severe action wins (the kernel's signed order:
// KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE, LOG, ALLOW), the newest on a
// tie. Deliberate differences: no filter has a listener (USER_NOTIF answers ENOSYS, as Linux
// does without one) and no tracer is ever attached (TRACE answers ENOSYS, as Linux does).
//
// Never throws on application input; never lets a call through that a filter refused.

import { Errno } from '../../abi/linux/errno.js';
import { Reg } from '../../platform/platform.js';
import type { SyscallArgs } from '../syscalls/types.js';
import {
  type SeccompProgram,
  SECCOMP_DATA_SIZE,
  runSeccompProgram,
} from '../../platform/asm/seccomp_bpf.js';
import { forceFault } from './signals.js';
import type { Task } from './task.js';

export const SECCOMP_MODE_DISABLED = 0;
export const SECCOMP_MODE_STRICT = 1;
export const SECCOMP_MODE_FILTER = 2;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ACTION_FULL = 0xffff0000;
const SECCOMP_RET_DATA = 0x0000ffff;
const MAX_ERRNO = 4095;

const AUDIT_ARCH_X86_64 = 0xc000003e;
const SIGKILL = 9;
const SIGSYS = 31;
const SYS_SECCOMP = 1;

/** The calls strict mode allows (read, write, exit, rt_sigreturn). */
const STRICT_ALLOWED = new Set([0, 1, 60, 15]);

/** One attached filter and the older ones it was attached over. */
export interface SeccompFilter {
  readonly prog: SeccompProgram;
  readonly prev: SeccompFilter | null;
  /** SECCOMP_FILTER_FLAG_LOG: its non-allow verdicts are logged. */
  readonly log: boolean;
  /** Instructions of the chain, counted as Linux limits them (each filter + 4). */
  readonly pathInsns: number;
}

/** The container's profile as a filter: a kernel-style return value for one call. */
export type ProfileFilter = (nr: number, args: SyscallArgs) => number;

/** A task's seccomp state; a new object per task, the chain shared. */
export interface SeccompState {
  mode: number;
  filter: SeccompFilter | null;
}

/** The action part of a return value, in the kernel's signed order (lower = more severe). */
function actionRank(ret: number): number {
  return (ret & SECCOMP_RET_ACTION_FULL) | 0;
}

/** struct seccomp_data for one call: nr, arch, instruction_pointer, args[6]. */
function seccompData(t: Task, nr: number, args: SyscallArgs): DataView {
  const dv = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  dv.setInt32(0, nr, true);
  dv.setUint32(4, AUDIT_ARCH_X86_64, true);
  dv.setBigUint64(8, BigInt.asUintN(64, t.regs[Reg.rip] ?? 0n), true);
  for (let i = 0; i < 6; i++) dv.setBigUint64(16 + 8 * i, BigInt.asUintN(64, args[i] ?? 0n), true);
  return dv;
}

/** The combined verdict of the task's filters and the container's profile. */
export function seccompVerdict(
  t: Task,
  nr: number,
  args: SyscallArgs,
): { ret: number; log: boolean } {
  let ret = SECCOMP_RET_ALLOW;
  let log = false;
  const chain = t.seccomp.filter;
  if (chain !== null) {
    const data = seccompData(t, nr, args);
    for (let f: SeccompFilter | null = chain; f !== null; f = f.prev) {
      const cur = runSeccompProgram(f.prog, data);
      if (actionRank(cur) < actionRank(ret)) {
        ret = cur;
        log = f.log;
      }
    }
  }
  const profile = t.kernel.appSeccomp;
  if (profile !== undefined) {
    const cur = profile(nr, args);
    if (actionRank(cur) < actionRank(ret)) {
      ret = cur;
      log = false;
    }
  }
  return { ret, log };
}

/** Another thread of the task's process is alive. */
function othersLive(t: Task): boolean {
  for (const u of t.threads) if (u !== t && u.exit.kind === 'running') return true;
  return false;
}

/**
 * Checks one call against the task's seccomp state before it is emulated: undefined lets it
 * through, else the call's result (the call is not made; a killed task has its exit set).
 */
export function seccompCheck(t: Task, nr: number, args: SyscallArgs): bigint | undefined {
  if (t.seccomp.mode === SECCOMP_MODE_STRICT) {
    if (STRICT_ALLOWED.has(nr)) return undefined;
    t.kernel.log.info(`seccomp: task ${t.tid} system call ${nr} in strict mode: killed`);
    t.threadExitOnly = othersLive(t);
    t.exit = { kind: 'killed', signo: SIGKILL, core: false };
    return BigInt(-Errno.ENOSYS);
  }
  const { ret, log } = seccompVerdict(t, nr, args);
  const action = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = ret & SECCOMP_RET_DATA;
  if (action === SECCOMP_RET_ALLOW) return undefined;
  if (log || action === SECCOMP_RET_LOG) {
    t.kernel.log.info(
      `seccomp: process ${t.tgid} system call ${nr}: action 0x${action.toString(16)}`,
    );
  }
  switch (action) {
    case SECCOMP_RET_LOG:
      return undefined;
    case SECCOMP_RET_ERRNO:
      return BigInt(-Math.min(data, MAX_ERRNO));
    case SECCOMP_RET_TRACE:
    case SECCOMP_RET_USER_NOTIF:
      return BigInt(-Errno.ENOSYS);
    case SECCOMP_RET_TRAP:
      // Delivered before the task runs again; rax rolls back to the call's number.
      forceFault(t, {
        signo: SIGSYS,
        code: SYS_SECCOMP,
        addr: t.regs[Reg.rip] ?? 0n,
        syscall: nr,
        arch: AUDIT_ARCH_X86_64,
        errno: data,
      });
      return BigInt(nr);
    default:
      // KILL_THREAD ends the thread alone while others live; KILL_PROCESS, and any action
      // Linux does not know, end the process (SIGSYS; no core is ever written).
      t.threadExitOnly = action === SECCOMP_RET_KILL_THREAD && othersLive(t);
      t.exit = { kind: 'killed', signo: SIGSYS, core: false };
      return BigInt(nr);
  }
}

/** The number of filters a task runs under (/proc/PID/status Seccomp_filters). */
export function seccompFilterCount(t: Task): number {
  let n = t.kernel.appSeccomp !== undefined ? 1 : 0;
  for (let f = t.seccomp.filter; f !== null; f = f.prev) n++;
  return n;
}
