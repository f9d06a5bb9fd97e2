// Resource usage and CPU-time clocks: getrusage, times, and the clock ids clock_gettime and
// clock_getres take for CPU time (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and the
// encoded per-pid/per-tid clocks of clock_getcpuclockid and pthread_getcpuclockid), all from
// the Sentry's accounting (kernel/cputime.ts).
//
// It must never answer for a task the caller may not name (another process's thread clock:
// EINVAL, as Linux), and never copy out through a bad pointer (EFAULT).

import { Errno } from '../../abi/linux/errno.js';
import {
  childrenTimes,
  cpuClockValue,
  encodeRusage,
  resolveCpuClock,
  maxRssKb,
  processTimes,
  threadTimes,
  ticks,
} from '../kernel/cputime.js';
import type { Task } from '../kernel/task.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

const RUSAGE_SELF = 0;
const RUSAGE_CHILDREN = -1;
const RUSAGE_THREAD = 1;
const CLOCK_PROCESS_CPUTIME_ID = 2;
const CLOCK_THREAD_CPUTIME_ID = 3;

/** A reaped child's usage for wait4/waitid (its process and its own reaped children). */
export function childRusage(child: Task): Uint8Array {
  const own = processTimes(child);
  const c = childrenTimes(child);
  return encodeRusage(
    { userNs: own.userNs + c.userNs, sysNs: own.sysNs + c.sysNs },
    Math.max(child.leader.cpu.maxRssKb, child.leader.cpu.childMaxRssKb),
  );
}

/**
 * The CPU time a clock id names for `t`, or -EINVAL: the two fixed ids, and the encoded
 * ones (~pid << 3 | clock, with 4 set for a thread).
 */
export function cpuClockNs(t: Task, clock: number): bigint | number {
  const c = resolveCpuClock(t, clock);
  return c === undefined ? -Errno.EINVAL : cpuClockValue(c);
}

/** True for the clock ids cpuClockNs answers. */
export function isCpuClock(clock: number): boolean {
  return clock === CLOCK_PROCESS_CPUTIME_ID || clock === CLOCK_THREAD_CPUTIME_ID || clock < 0;
}

/** Implements Linux syscall getrusage(2): CPU times and ru_maxrss; other fields are 0. */
function getrusage(t: Task, a: readonly bigint[]): number {
  const who = int(a[0] ?? 0n);
  let b: Uint8Array;
  if (who === RUSAGE_SELF) b = encodeRusage(processTimes(t), maxRssKb(t));
  else if (who === RUSAGE_THREAD) b = encodeRusage(threadTimes(t), maxRssKb(t));
  else if (who === RUSAGE_CHILDREN) b = encodeRusage(childrenTimes(t), t.leader.cpu.childMaxRssKb);
  else return -Errno.EINVAL;
  const r = t.mem.copyOut(a[1] ?? 0n, b);
  return r < 0 ? r : 0;
}

/** Implements Linux syscall times(2): clock ticks since boot; the four CPU times in ticks. */
function times(t: Task, a: readonly bigint[]): bigint | number {
  const buf = a[0] ?? 0n;
  if (buf !== 0n) {
    const own = processTimes(t);
    const ch = childrenTimes(t);
    const v = new BigInt64Array([
      ticks(own.userNs),
      ticks(own.sysNs),
      ticks(ch.userNs),
      ticks(ch.sysNs),
    ]);
    const r = t.mem.copyOut(buf, new Uint8Array(v.buffer));
    if (r < 0) return r;
  }
  return ticks(t.kernel.monotonicNs());
}

export const rusageSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [
    98,
    {
      name: 'getrusage',
      handler: getrusage,
      support: 'partial',
      note: 'CPU times (user: the task ran between traps; system: the Sentry served it) and ru_maxrss; page-fault, I/O and context-switch counts are 0',
    },
  ],
  [100, { name: 'times', handler: times, support: 'full' }],
]);
