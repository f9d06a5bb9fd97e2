// POSIX per-process timers (timer_create and friends): each timer belongs to a process, runs
// on the realtime, monotonic or boottime clock or on a CPU-time clock (a thread's or a
// process's), and on expiry queues a signal (SIGEV_SIGNAL, to the process; SIGEV_THREAD_ID,
// to one of its threads) or nothing (SIGEV_NONE). Expiries on the wall clocks are kernel
// alarms (itimer.ts); those on CPU-time clocks are looked at after each trap of a task of the
// clock's process (fireCpuPosixTimers), as the CPU-time interval timers are. While a timer's signal is still pending, further expiries
// only count as overruns; the count is handed over when the signal is taken (si_overrun,
// timer_getoverrun), as Linux does.
//
// It must never queue a signal to a task outside the timer's process, and a timer never
// outlives its process (deleted at exit's first expiry after it, and at exec).

import { type CpuClock, cpuClockValue } from './cputime.js';
import { addAlarm } from './itimer.js';
import type { Kernel } from './kernel.js';
import { sendSignal, signalProcess, type SigInfo } from './signals.js';
import type { Task } from './task.js';

export const SI_TIMER = -2;
export const SIGEV_SIGNAL = 0;
export const SIGEV_NONE = 1;
export const SIGEV_THREAD = 2;
export const SIGEV_THREAD_ID = 4;
const DELAYTIMER_MAX = 0x7fffffff;

export interface PosixTimer {
  readonly id: number;
  /** The process (its leader) that owns it. */
  readonly owner: Task;
  readonly realtime: boolean;
  /** A CPU-time clock's timer: whose time it counts. */
  readonly cpu: CpuClock | undefined;
  readonly notify: number;
  readonly signo: number;
  readonly value: bigint;
  /** SIGEV_THREAD_ID's thread; else the signal is process-directed. */
  readonly thread: Task | null;
  /** Next expiry on the timer's clock; 0n when disarmed. */
  next: bigint;
  interval: bigint;
  /** Expiries not signalled since the pending signal was queued. */
  overrun: number;
  /** The overrun handed over with the last signal taken (timer_getoverrun). */
  overrunLast: number;
  cancel: (() => void) | undefined;
  /** The siginfo of its signal while queued and not yet taken. */
  queued: SigInfo | undefined;
}

/** The process's timers by id (created on first use). */
export function timersOf(k: Kernel, t: Task): Map<number, PosixTimer> {
  let m = k.posixTimers.get(t.leader);
  if (m === undefined) {
    m = new Map();
    k.posixTimers.set(t.leader, m);
  }
  return m;
}

export function clockNow(k: Kernel, tm: PosixTimer): bigint {
  if (tm.cpu !== undefined) return cpuClockValue(tm.cpu);
  return tm.realtime ? k.realtimeNs() : k.monotonicNs();
}

function alive(p: Task): boolean {
  return !p.zombie && [...p.threads].some((u) => u.exit.kind === 'running');
}

/** Arms (value > 0: first expiry in ns on its clock, absolute or relative) or disarms. */
export function armTimer(
  k: Kernel,
  tm: PosixTimer,
  value: bigint,
  interval: bigint,
  abs: boolean,
): void {
  tm.cancel?.();
  tm.cancel = undefined;
  tm.interval = interval;
  if (value === 0n) {
    tm.next = 0n;
    return;
  }
  const at = abs ? value : clockNow(k, tm) + value;
  tm.next = at > 0n ? at : 1n;
  schedule(k, tm);
}

function schedule(k: Kernel, tm: PosixTimer): void {
  if (tm.cpu !== undefined) {
    // Looked at after each trap of the clock's process (fireCpuPosixTimers).
    k.cpuPosixTimers.add(tm);
    tm.cancel = () => k.cpuPosixTimers.delete(tm);
    return;
  }
  const mono = tm.realtime ? tm.next - k.bootRealtimeNs : tm.next;
  tm.cancel = addAlarm(k, mono, () => {
    tm.cancel = undefined;
    expire(k, tm);
  });
}

function expire(k: Kernel, tm: PosixTimer): void {
  if (!alive(tm.owner)) {
    deleteTimer(k, tm);
    return;
  }
  if (tm.next === 0n) return;
  const now = clockNow(k, tm);
  let n = 1n;
  if (tm.interval > 0n && now > tm.next) n += (now - tm.next) / tm.interval;
  tm.next = tm.interval > 0n ? tm.next + n * tm.interval : 0n;
  if (tm.notify !== SIGEV_NONE) {
    const target = tm.thread ?? tm.owner;
    const q = tm.queued;
    const stillPending =
      q !== undefined && [...tm.owner.threads].some((u) => u.pendingInfo.get(tm.signo) === q);
    if (stillPending) tm.overrun = Math.min(DELAYTIMER_MAX, tm.overrun + Number(n));
    else {
      tm.overrun = Number(n) - 1;
      const info: SigInfo = { signo: tm.signo, code: SI_TIMER, timer: tm };
      tm.queued = info;
      if (tm.thread !== null) sendSignal(target, info);
      else signalProcess(target, info);
    }
  }
  if (tm.next !== 0n) schedule(k, tm);
}

export function deleteTimer(k: Kernel, tm: PosixTimer): void {
  tm.cancel?.();
  tm.cancel = undefined;
  tm.next = 0n;
  const m = k.posixTimers.get(tm.owner);
  m?.delete(tm.id);
  if (m !== undefined && m.size === 0) k.posixTimers.delete(tm.owner);
}

/**
 * Fires the due CPU-time timers whose clock `t` (which just trapped) counts toward: its own
 * thread clock's, and its process's.
 */
export function fireCpuPosixTimers(t: Task): void {
  const k = t.kernel;
  for (const tm of [...k.cpuPosixTimers]) {
    const c = tm.cpu;
    if (c === undefined) continue;
    if (c.thread && c.task.exit.kind !== 'running') {
      // A thread's clock stops with the thread.
      k.cpuPosixTimers.delete(tm);
      continue;
    }
    if (c.thread ? c.task !== t : c.task !== t.leader) continue;
    if (tm.next !== 0n && cpuClockValue(c) >= tm.next) {
      k.cpuPosixTimers.delete(tm);
      tm.cancel = undefined;
      expire(k, tm);
    }
  }
}

/** Every timer of `t`'s process goes (exec, exit). */
export function deleteProcessTimers(t: Task): void {
  const k = t.kernel;
  const m = k.posixTimers.get(t.leader);
  if (m === undefined) return;
  for (const tm of [...m.values()]) deleteTimer(k, tm);
}
