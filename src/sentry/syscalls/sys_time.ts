// Time: clock_gettime, clock_getres, gettimeofday, time, nanosleep, clock_nanosleep. Time is
// the Sentry's virtual time: monotonic clocks start at the sandbox's boot, the real-time clock
// follows the host's wall clock as read at boot. A sleep parks the task (kernel/block.ts): other
// tasks run meanwhile.

import { cpuClockNs, isCpuClock } from './sys_rusage.js';
import { BLOCKED, restartOf, signalPending, timeLeft } from '../kernel/block.js';
import { Errno } from '../../abi/linux/errno.js';
import type { Task } from '../kernel/task.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const CLOCK_THREAD_CPUTIME_ID = 3;
const CLOCK_MONOTONIC_RAW = 4;
const CLOCK_REALTIME_COARSE = 5;
const CLOCK_MONOTONIC_COARSE = 6;
const CLOCK_BOOTTIME = 7;
const TIMER_ABSTIME = 1;

function clockNs(t: Task, clock: number): bigint | number {
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
      return t.kernel.realtimeNs();
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
      return t.kernel.monotonicNs();
    default:
      return isCpuClock(clock) ? cpuClockNs(t, clock) : -Errno.EINVAL;
  }
}

function timespec(ns: bigint): Uint8Array {
  return new Uint8Array(new BigInt64Array([ns / 1_000_000_000n, ns % 1_000_000_000n]).buffer);
}

/** Implements Linux syscall clock_gettime(2). */
function clockGettime(t: Task, a: readonly bigint[]): number {
  const ns = clockNs(t, int(a[0] ?? 0n));
  if (typeof ns === 'number') return ns;
  const r = t.mem.copyOut(a[1] ?? 0n, timespec(ns));
  return r < 0 ? r : 0;
}

/** Implements Linux syscall clock_getres(2): 1 ns, 4 ms for the coarse clocks. */
function clockGetres(t: Task, a: readonly bigint[]): number {
  const clock = int(a[0] ?? 0n);
  const ns = clockNs(t, clock);
  if (typeof ns === 'number') return ns;
  if ((a[1] ?? 0n) === 0n) return 0;
  const coarse = clock === CLOCK_REALTIME_COARSE || clock === CLOCK_MONOTONIC_COARSE;
  const r = t.mem.copyOut(a[1] ?? 0n, timespec(coarse ? 4_000_000n : 1n));
  return r < 0 ? r : 0;
}

/** Implements Linux syscall gettimeofday(2). The timezone is always UTC. */
function gettimeofday(t: Task, a: readonly bigint[]): number {
  const ns = t.kernel.realtimeNs();
  if ((a[0] ?? 0n) !== 0n) {
    const tv = new BigInt64Array([ns / 1_000_000_000n, (ns % 1_000_000_000n) / 1000n]);
    const r = t.mem.copyOut(a[0] ?? 0n, new Uint8Array(tv.buffer));
    if (r < 0) return r;
  }
  if ((a[1] ?? 0n) !== 0n) {
    const r = t.mem.copyOut(a[1] ?? 0n, new Uint8Array(8));
    if (r < 0) return r;
  }
  return 0;
}

/** Implements Linux syscall time(2). */
function time(t: Task, a: readonly bigint[]): bigint | number {
  const s = t.kernel.realtimeNs() / 1_000_000_000n;
  if ((a[0] ?? 0n) !== 0n) {
    const r = t.mem.copyOut(a[0] ?? 0n, new Uint8Array(new BigInt64Array([s]).buffer));
    if (r < 0) return r;
  }
  return s;
}

function readTimespec(t: Task, p: bigint): bigint | number {
  const b = t.mem.copyIn(p, 16);
  if (typeof b === 'number') return b;
  const v = new BigInt64Array(b.buffer);
  const sec = v[0] ?? 0n;
  const nsec = v[1] ?? 0n;
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) return -Errno.EINVAL;
  return sec * 1_000_000_000n + nsec;
}

function writeRemaining(t: Task, p: bigint, left: bigint): number {
  if (p === 0n) return 0;
  const r = t.mem.copyOut(p, timespec(left));
  return r < 0 ? r : 0;
}

/** A sleep of `ns` from the first try: 0 when done, BLOCKED while it lasts, EINTR on a signal. */
function sleepFor(t: Task, ns: bigint, remPtr: bigint): number {
  const r = restartOf(t, ns);
  // Only the deadline or a signal ends a sleep: nothing else needs to retry it.
  r.evented = true;
  const left = timeLeft(t, r);
  if (left === 0n) return 0;
  if (!signalPending(t)) return BLOCKED;
  const w = writeRemaining(t, remPtr, left);
  return w < 0 ? w : -Errno.EINTR;
}

/** Implements Linux syscall nanosleep(2); a signal interrupts it (EINTR, the rest in rem). */
function nanosleep(t: Task, a: readonly bigint[]): number {
  if (t.restart !== undefined) return sleepFor(t, 0n, a[1] ?? 0n);
  const ns = readTimespec(t, a[0] ?? 0n);
  if (typeof ns === 'number') return ns;
  return sleepFor(t, ns, a[1] ?? 0n);
}

/** Implements Linux syscall clock_nanosleep(2). */
function clockNanosleep(t: Task, a: readonly bigint[]): number {
  const flags = int(a[1] ?? 0n);
  const abs = (flags & TIMER_ABSTIME) !== 0;
  const rem = abs ? 0n : (a[3] ?? 0n);
  if (t.restart !== undefined) return sleepFor(t, 0n, rem);
  const clock = int(a[0] ?? 0n);
  if (clock === CLOCK_THREAD_CPUTIME_ID) return -Errno.EINVAL;
  const now = clockNs(t, clock);
  if (typeof now === 'number') return now;
  const ns = readTimespec(t, a[2] ?? 0n);
  if (typeof ns === 'number') return ns;
  const rel = abs ? ns - now : ns;
  return sleepFor(t, rel > 0n ? rel : 0n, rem);
}

export const timeSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [228, { name: 'clock_gettime', handler: clockGettime, support: 'full' }],
  [229, { name: 'clock_getres', handler: clockGetres, support: 'full' }],
  [96, { name: 'gettimeofday', handler: gettimeofday, support: 'full' }],
  [201, { name: 'time', handler: time, support: 'full' }],
  [
    35,
    {
      name: 'nanosleep',
      handler: nanosleep,
      support: 'partial',
      note: 'interrupted (EINTR) by signals sent from outside',
    },
  ],
  [
    230,
    {
      name: 'clock_nanosleep',
      handler: clockNanosleep,
      support: 'partial',
      note: 'interrupted (EINTR) by signals sent from outside',
    },
  ],
]);
