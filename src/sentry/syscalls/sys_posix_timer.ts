// POSIX timers: timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete
// over kernel/posix_timers.ts, with Linux's checks (good_sigevent's notify rules, ids per
// process), on the wall clocks and on CPU-time clocks (the caller's process or thread, or one
// named by clock_getcpuclockid / pthread_getcpuclockid). Nothing here reaches the host.

import { Errno } from '../../abi/linux/errno.js';
import {
  SIGEV_NONE,
  SIGEV_SIGNAL,
  SIGEV_THREAD,
  SIGEV_THREAD_ID,
  armTimer,
  clockNow,
  deleteTimer,
  timersOf,
  type PosixTimer,
} from '../kernel/posix_timers.js';
import { bit } from '../kernel/signals.js';
import { type CpuClock, resolveCpuClock } from '../kernel/cputime.js';
import type { Task } from '../kernel/task.js';
import { int } from './args.js';
import {
  isRealtimeClock,
  itimerspecBytes,
  readItimerspec,
  timerClockAllowed,
} from './itimerspec.js';
import type { SyscallEntry } from './types.js';

const CLOCK_PROCESS_CPUTIME_ID = 2;
const CLOCK_THREAD_CPUTIME_ID = 3;
const CLOCKFD = 3;
const SIGALRM = 14;
const SIGRTMAX = 64;
const TIMER_ABSTIME = 1;
const MAX_TIMERS = 4096;

/** Implements Linux syscall timer_create(2). */
function timerCreate(t: Task, a: readonly bigint[]): number {
  const clock = int(a[0] ?? 0n);
  let cpu: CpuClock | undefined;
  // A negative id with 3 in its low bits names a clock by fd (CLOCKFD: PTP devices): none here.
  if (clock < 0 && (clock & 3) === CLOCKFD) return -Errno.EOPNOTSUPP;
  if (clock === CLOCK_PROCESS_CPUTIME_ID || clock === CLOCK_THREAD_CPUTIME_ID || clock < 0) {
    cpu = resolveCpuClock(t, clock);
    if (cpu === undefined) return -Errno.EINVAL;
  } else {
    const ok = timerClockAllowed(t, clock);
    if (ok < 0) return ok;
  }
  const timers = timersOf(t.kernel, t);
  let id = 0;
  while (timers.has(id)) id++;
  if (id >= MAX_TIMERS) return -Errno.EAGAIN;
  let notify = SIGEV_SIGNAL;
  let signo = SIGALRM;
  let value = BigInt(id);
  let thread: Task | null = null;
  if ((a[1] ?? 0n) !== 0n) {
    const b = t.mem.copyIn(a[1] ?? 0n, 64);
    if (typeof b === 'number') return b;
    const dv = new DataView(b.buffer);
    value = dv.getBigUint64(0, true);
    signo = dv.getInt32(8, true);
    notify = dv.getInt32(12, true);
    const tid = dv.getInt32(16, true);
    if (notify === SIGEV_THREAD_ID) {
      const u = t.kernel.tasks.get(tid);
      if (u === undefined || u.leader !== t.leader || u.exit.kind !== 'running')
        return -Errno.EINVAL;
      thread = u;
    } else if (notify !== SIGEV_SIGNAL && notify !== SIGEV_THREAD && notify !== SIGEV_NONE) {
      return -Errno.EINVAL;
    }
    if (notify !== SIGEV_NONE && (signo <= 0 || signo > SIGRTMAX)) return -Errno.EINVAL;
  }
  const tm: PosixTimer = {
    id,
    owner: t.leader,
    realtime: cpu === undefined && isRealtimeClock(clock),
    cpu,
    notify,
    signo,
    value,
    thread,
    next: 0n,
    interval: 0n,
    overrun: 0,
    overrunLast: 0,
    cancel: undefined,
    queued: undefined,
  };
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, id, true);
  const r = t.mem.copyOut(a[2] ?? 0n, out);
  if (r < 0) return r;
  timers.set(id, tm);
  return 0;
}

function timerOf(t: Task, idArg: bigint): PosixTimer | undefined {
  return t.kernel.posixTimers.get(t.leader)?.get(int(idArg));
}

function current(t: Task, tm: PosixTimer): [bigint, bigint] {
  if (tm.next === 0n) return [0n, tm.interval];
  const left = tm.next - clockNow(t.kernel, tm);
  return [left > 0n ? left : 1n, tm.interval];
}

/** Implements Linux syscall timer_settime(2). */
function timerSettime(t: Task, a: readonly bigint[]): number {
  const flags = int(a[1] ?? 0n);
  const spec = readItimerspec(t, a[2] ?? 0n);
  if (typeof spec === 'number') return spec;
  if (!spec.valid) return -Errno.EINVAL;
  const tm = timerOf(t, a[0] ?? 0n);
  if (tm === undefined) return -Errno.EINVAL;
  if ((a[3] ?? 0n) !== 0n) {
    const [left, interval] = current(t, tm);
    const r = t.mem.copyOut(a[3] ?? 0n, itimerspecBytes(interval, left));
    if (r < 0) return r;
  }
  tm.overrunLast = 0;
  armTimer(t.kernel, tm, spec.value, spec.interval, (flags & TIMER_ABSTIME) !== 0);
  return 0;
}

/** Implements Linux syscall timer_gettime(2). */
function timerGettime(t: Task, a: readonly bigint[]): number {
  const tm = timerOf(t, a[0] ?? 0n);
  if (tm === undefined) return -Errno.EINVAL;
  const [left, interval] = current(t, tm);
  const r = t.mem.copyOut(a[1] ?? 0n, itimerspecBytes(interval, left));
  return r < 0 ? r : 0;
}

/** Implements Linux syscall timer_getoverrun(2). */
function timerGetoverrun(t: Task, a: readonly bigint[]): number {
  const tm = timerOf(t, a[0] ?? 0n);
  return tm === undefined ? -Errno.EINVAL : tm.overrunLast;
}

/** Implements Linux syscall timer_delete(2): a signal of it still pending goes too. */
function timerDelete(t: Task, a: readonly bigint[]): number {
  const tm = timerOf(t, a[0] ?? 0n);
  if (tm === undefined) return -Errno.EINVAL;
  const q = tm.queued;
  if (q !== undefined) {
    for (const u of tm.owner.threads) {
      if (u.pendingInfo.get(tm.signo) !== q) continue;
      u.pendingInfo.delete(tm.signo);
      u.pendingSignals &= ~bit(tm.signo);
    }
  }
  deleteTimer(t.kernel, tm);
  return 0;
}

export const posixTimerSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [
    222,
    {
      name: 'timer_create',
      handler: timerCreate,
      support: 'full',
    },
  ],
  [223, { name: 'timer_settime', handler: timerSettime, support: 'full' }],
  [224, { name: 'timer_gettime', handler: timerGettime, support: 'full' }],
  [225, { name: 'timer_getoverrun', handler: timerGetoverrun, support: 'full' }],
  [226, { name: 'timer_delete', handler: timerDelete, support: 'full' }],
]);
