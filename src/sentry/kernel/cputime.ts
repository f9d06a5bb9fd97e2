// CPU-time accounting: each task's user time (the wall time its stub ran application code
// between traps, measured around the platform's switch) and system time (the Sentry's time
// handling its traps); a process's totals are its live threads' plus those of its ended
// threads; a reaped child's totals (its own and its reaped children's) go to its parent's
// "children" totals, as Linux's wait does. Peak resident memory is kept the same way.
// getrusage, times, wait4/waitid's rusage, /proc/PID/stat and the CPU-time clocks read it.
//
// It must never count a task's time twice, nor let a process's totals go backwards.

import type { Task } from './task.js';

export interface CpuTimes {
  userNs: bigint;
  sysNs: bigint;
}

/** A thread's own times. */
export function threadTimes(t: Task): CpuTimes {
  return { userNs: t.cpu.userNs, sysNs: t.cpu.sysNs };
}

/** A process's times (`t` any of its threads): live threads and ended ones. */
export function processTimes(t: Task): CpuTimes {
  const l = t.leader;
  let userNs = l.cpu.deadUserNs;
  let sysNs = l.cpu.deadSysNs;
  for (const u of l.threads) {
    userNs += u.cpu.userNs;
    sysNs += u.cpu.sysNs;
  }
  return { userNs, sysNs };
}

/**
 * A CPU-time clock, resolved: whose time (a thread, or a process by its leader) and which
 * part (CPUCLOCK_PROF 0: user + system; VIRT 1: user; SCHED 2: user + system).
 */
export interface CpuClock {
  task: Task;
  thread: boolean;
  which: number;
}

const CLOCK_PROCESS_CPUTIME_ID = 2;
const CLOCK_THREAD_CPUTIME_ID = 3;
const CPUCLOCK_PERTHREAD = 4;
const CPUCLOCK_VIRT = 1;
const CPUCLOCK_SCHED = 2;
const CPUCLOCK_MAX = 3;

/**
 * The CPU-time clock a clock id names for `t` (the two fixed ids, and the encoded ones:
 * ~pid << 3 | which, with 4 set for a thread), or undefined when it names none `t` may use
 * (another process's thread, a task that is gone).
 */
export function resolveCpuClock(t: Task, clock: number): CpuClock | undefined {
  if (clock === CLOCK_PROCESS_CPUTIME_ID)
    return { task: t.leader, thread: false, which: CPUCLOCK_SCHED };
  if (clock === CLOCK_THREAD_CPUTIME_ID) return { task: t, thread: true, which: CPUCLOCK_SCHED };
  if (clock >= 0) return undefined;
  const which = clock & 3;
  if (which === CPUCLOCK_MAX) return undefined;
  const pid = ~(clock >> 3);
  const thread = (clock & CPUCLOCK_PERTHREAD) !== 0;
  const target = pid === 0 ? t : t.kernel.tasks.get(pid);
  if (target === undefined || target.exit.kind !== 'running') return undefined;
  if (thread) return target.leader === t.leader ? { task: target, thread, which } : undefined;
  if (pid !== 0 && target !== target.leader) return undefined;
  return { task: target.leader, thread, which };
}

/** A CPU-time clock's value now, in ns. */
export function cpuClockValue(c: CpuClock): bigint {
  const times = c.thread ? threadTimes(c.task) : processTimes(c.task);
  return c.which === CPUCLOCK_VIRT ? times.userNs : times.userNs + times.sysNs;
}

/** Times of the process's reaped children (and of theirs). */
export function childrenTimes(t: Task): CpuTimes {
  const l = t.leader;
  return { userNs: l.cpu.childUserNs, sysNs: l.cpu.childSysNs };
}

/** A thread of a living process ends: its times stay with the process. */
export function accountThreadEnd(u: Task): void {
  const l = u.leader;
  if (u === l) return;
  l.cpu.deadUserNs += u.cpu.userNs;
  l.cpu.deadSysNs += u.cpu.sysNs;
  u.cpu.userNs = 0n;
  u.cpu.sysNs = 0n;
}

/** Peak resident set of a process in KiB (ru_maxrss), sampling its address space now. */
export function maxRssKb(t: Task): number {
  const l = t.leader;
  const now = Math.ceil(t.mm.peakResidentBytes / 1024);
  if (now > l.cpu.maxRssKb) l.cpu.maxRssKb = now;
  return l.cpu.maxRssKb;
}

/** `child` (a zombie leader) is reaped by `parent`: its totals become the parent's children's. */
export function accountReap(parent: Task, child: Task): void {
  const p = parent.leader;
  const own = processTimes(child);
  const c = child.cpu;
  p.cpu.childUserNs += own.userNs + c.childUserNs;
  p.cpu.childSysNs += own.sysNs + c.childSysNs;
  p.cpu.childMaxRssKb = Math.max(p.cpu.childMaxRssKb, c.maxRssKb, c.childMaxRssKb);
}

/** The per-task record (a field of Task). */
export class CpuAccount {
  userNs = 0n;
  sysNs = 0n;
  /** Leaders only: ended threads, and reaped children. */
  deadUserNs = 0n;
  deadSysNs = 0n;
  childUserNs = 0n;
  childSysNs = 0n;
  maxRssKb = 0;
  childMaxRssKb = 0;
}

/** struct rusage (144 bytes): times as timevals, maxrss in KiB; the rest zero. */
export function encodeRusage(times: CpuTimes, maxRss: number): Uint8Array {
  const b = new Uint8Array(144);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, times.userNs / 1_000_000_000n, true);
  v.setBigInt64(8, (times.userNs % 1_000_000_000n) / 1000n, true);
  v.setBigInt64(16, times.sysNs / 1_000_000_000n, true);
  v.setBigInt64(24, (times.sysNs % 1_000_000_000n) / 1000n, true);
  v.setBigInt64(32, BigInt(maxRss), true);
  return b;
}

/** Clock ticks (USER_HZ, 100 per second) for times(2) and /proc/PID/stat. */
export function ticks(ns: bigint): bigint {
  return ns / 10_000_000n;
}
