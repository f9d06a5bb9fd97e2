// seccomp(2) and prctl's PR_SET_SECCOMP / PR_GET_SECCOMP: the application attaches filters of
// its own (task_seccomp.ts runs them, seccomp_bpf.ts checks and interprets them), with
// Linux's order of checks: flags, then the program (EFAULT, EINVAL, EACCES without
// no_new_privs or CAP_SYS_ADMIN), then the mode, then the path length (ENOMEM) and, with
// TSYNC, whether every thread can take the new chain (the tid of one that cannot).
//
// Deliberate difference: SECCOMP_FILTER_FLAG_NEW_LISTENER answers EINVAL (moat offers no
// user-notification listener), and SECCOMP_GET_ACTION_AVAIL says USER_NOTIF is not available.
// Never trusts the program or the pointers: hostile bytes are EINVAL, bad pointers EFAULT.

import { CAP_SYS_ADMIN } from '../../abi/linux/capability.js';
import { Errno } from '../../abi/linux/errno.js';
import { capable } from '../kernel/credentials.js';
import { checkSeccompProgram, SECCOMP_MAX_INSNS } from '../../platform/asm/seccomp_bpf.js';
import type { Task } from '../kernel/task.js';
import {
  SECCOMP_MODE_DISABLED,
  SECCOMP_MODE_FILTER,
  SECCOMP_MODE_STRICT,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  type SeccompFilter,
} from '../kernel/task_seccomp.js';
import { int, uint } from './args.js';
import type { SyscallEntry } from './types.js';

const SECCOMP_SET_MODE_STRICT = 0;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_GET_ACTION_AVAIL = 2;
const SECCOMP_GET_NOTIF_SIZES = 3;

const FLAG_TSYNC = 1;
const FLAG_LOG = 2;
const FLAG_SPEC_ALLOW = 4;
const FLAG_NEW_LISTENER = 8;
const FLAG_TSYNC_ESRCH = 16;
const FLAG_WAIT_KILLABLE_RECV = 32;
const FLAG_MASK =
  FLAG_TSYNC |
  FLAG_LOG |
  FLAG_SPEC_ALLOW |
  FLAG_NEW_LISTENER |
  FLAG_TSYNC_ESRCH |
  FLAG_WAIT_KILLABLE_RECV;

/** MAX_INSNS_PER_PATH: the instructions a call may run through, filters and overheads. */
const MAX_INSNS_PER_PATH = (1 << 18) / 8;

/** The actions a filter of this Sentry can carry out. */
const AVAILABLE = new Set([
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_LOG,
  SECCOMP_RET_ALLOW,
]);

/** A mode may be entered from none, or again from the same mode (seccomp_may_assign_mode). */
function mayAssign(t: Task, mode: number): boolean {
  return t.seccomp.mode === SECCOMP_MODE_DISABLED || t.seccomp.mode === mode;
}

function setModeStrict(t: Task): number {
  if (!mayAssign(t, SECCOMP_MODE_STRICT)) return -Errno.EINVAL;
  t.seccomp.mode = SECCOMP_MODE_STRICT;
  return 0;
}

/** Reads struct sock_fprog and its program; checks it as seccomp_prepare_filter does. */
function prepare(t: Task, uprog: bigint): SeccompFilter['prog'] | number {
  const head = t.mem.copyIn(uprog, 16);
  if (typeof head === 'number') return head;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const len = dv.getUint16(0, true);
  const filter = dv.getBigUint64(8, true);
  if (len === 0 || len > SECCOMP_MAX_INSNS) return -Errno.EINVAL;
  if (!t.noNewPrivs && !capable(t.creds, CAP_SYS_ADMIN)) return -Errno.EACCES;
  const bytes = t.mem.copyIn(filter, len * 8);
  if (typeof bytes === 'number') return bytes;
  return checkSeccompProgram(bytes);
}

/** The chain `chain` has `older` in it (or older is none): a thread may move onto it. */
function descends(chain: SeccompFilter | null, older: SeccompFilter | null): boolean {
  if (older === null) return true;
  for (let f = chain; f !== null; f = f.prev) if (f === older) return true;
  return false;
}

function setModeFilter(t: Task, flags: number, uprog: bigint): number {
  if ((flags & ~FLAG_MASK) !== 0) return -Errno.EINVAL;
  if (
    (flags & FLAG_TSYNC) !== 0 &&
    (flags & FLAG_NEW_LISTENER) !== 0 &&
    (flags & FLAG_TSYNC_ESRCH) === 0
  )
    return -Errno.EINVAL;
  if ((flags & FLAG_WAIT_KILLABLE_RECV) !== 0 && (flags & FLAG_NEW_LISTENER) === 0)
    return -Errno.EINVAL;
  const prog = prepare(t, uprog);
  if (typeof prog === 'number') return prog;
  if ((flags & FLAG_NEW_LISTENER) !== 0) {
    t.kernel.log.info('seccomp: a user-notification listener was asked for: not offered');
    return -Errno.EINVAL;
  }
  if (!mayAssign(t, SECCOMP_MODE_FILTER)) return -Errno.EINVAL;
  const prev = t.seccomp.filter;
  const pathInsns = prog.code.length + (prev === null ? 0 : prev.pathInsns + 4);
  if (pathInsns > MAX_INSNS_PER_PATH) return -Errno.ENOMEM;
  const filter: SeccompFilter = { prog, prev, log: (flags & FLAG_LOG) !== 0, pathInsns };
  const threads =
    (flags & FLAG_TSYNC) !== 0
      ? [...t.threads].filter((u) => u !== t && u.exit.kind === 'running')
      : [];
  for (const u of threads) {
    if (u.seccomp.mode === SECCOMP_MODE_STRICT || !descends(prev, u.seccomp.filter)) {
      return (flags & FLAG_TSYNC_ESRCH) !== 0 ? -Errno.ESRCH : u.tid;
    }
  }
  for (const u of [t, ...threads]) {
    u.seccomp.filter = filter;
    u.seccomp.mode = SECCOMP_MODE_FILTER;
    if (t.noNewPrivs) u.noNewPrivs = true;
  }
  return 0;
}

function actionAvail(t: Task, uaction: bigint): number {
  const b = t.mem.copyIn(uaction, 4);
  if (typeof b === 'number') return b;
  const action = new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  return AVAILABLE.has(action) ? 0 : -Errno.EOPNOTSUPP;
}

/** struct seccomp_notif_sizes: the sizes of the notification structures Linux uses. */
function notifSizes(t: Task, usizes: bigint): number {
  const b = new Uint8Array(6);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 80, true);
  dv.setUint16(2, 24, true);
  dv.setUint16(4, 64, true);
  const r = t.mem.copyOut(usizes, b);
  return r < 0 ? r : 0;
}

/** The operations of seccomp(2), shared with prctl(PR_SET_SECCOMP). */
function doSeccomp(t: Task, op: number, flags: number, uargs: bigint): number {
  switch (op) {
    case SECCOMP_SET_MODE_STRICT:
      if (flags !== 0 || uargs !== 0n) return -Errno.EINVAL;
      return setModeStrict(t);
    case SECCOMP_SET_MODE_FILTER:
      return setModeFilter(t, flags, uargs);
    case SECCOMP_GET_ACTION_AVAIL:
      if (flags !== 0) return -Errno.EINVAL;
      return actionAvail(t, uargs);
    case SECCOMP_GET_NOTIF_SIZES:
      if (flags !== 0) return -Errno.EINVAL;
      return notifSizes(t, uargs);
    default:
      return -Errno.EINVAL;
  }
}

/** Implements Linux syscall seccomp(2). */
function seccomp(t: Task, a: readonly bigint[]): number {
  return doSeccomp(t, uint(a[0] ?? 0n), uint(a[1] ?? 0n), a[2] ?? 0n);
}

/** prctl(PR_GET_SECCOMP): the task's mode (strict mode never gets here: prctl kills it). */
export function prctlGetSeccomp(t: Task): number {
  return t.seccomp.mode;
}

/** prctl(PR_SET_SECCOMP, mode, filter): strict, or a filter with no flags. */
export function prctlSetSeccomp(t: Task, a: readonly bigint[]): number {
  switch (int(a[1] ?? 0n)) {
    case SECCOMP_MODE_STRICT:
      return doSeccomp(t, SECCOMP_SET_MODE_STRICT, 0, 0n);
    case SECCOMP_MODE_FILTER:
      return doSeccomp(t, SECCOMP_SET_MODE_FILTER, 0, a[2] ?? 0n);
    default:
      return -Errno.EINVAL;
  }
}

export const seccompSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [
    317,
    {
      name: 'seccomp',
      handler: seccomp,
      support: 'partial',
      note: 'strict mode, filters (classic BPF, every action, TSYNC, LOG), GET_ACTION_AVAIL; no user-notification listener (NEW_LISTENER is EINVAL)',
    },
  ],
]);
