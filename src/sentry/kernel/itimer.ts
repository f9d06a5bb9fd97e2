// Kernel timers: the real-time interval timer of a process (ITIMER_REAL, which alarm(2) also
// sets), and alarms that call back at a deadline (a timerfd's next expiry). The former is a
// deadline on the kernel's monotonic clock and an interval. The run loop fires due timers
// (SIGALRM to the process) after each system call, when the control worker kicks a task that
// computes without system calls, and when every task is parked (the idle sleep ends at the
// nearest deadline). Never touches the host.

import type { Kernel } from './kernel.js';
import { processTimes } from './cputime.js';
import { signalProcess } from './signals.js';
import type { Task } from './task.js';

const SIGALRM = 14;
const SI_KERNEL = 0x80;

export interface ITimer {
  /** Monotonic ns when it fires next; 0n when disarmed. */
  deadline: bigint;
  /** Re-arm period in ns; 0n for a one-shot. */
  interval: bigint;
}

/** The process's timer as it stands (disarmed when absent). */
export function getITimer(t: Task): ITimer {
  return t.kernel.itimers.get(t.leader) ?? { deadline: 0n, interval: 0n };
}

/** Arms (deadline > 0) or disarms the process's timer. */
export function setITimer(t: Task, timer: ITimer): void {
  const m = t.kernel.itimers;
  if (timer.deadline === 0n) m.delete(t.leader);
  else m.set(t.leader, timer);
}

/** A kernel alarm: `fire` is called once the monotonic clock reaches `at` (timerfd). */
export interface Alarm {
  at: bigint;
  fire: () => void;
}

/** Schedules `fire` at monotonic `at`; returns the canceller. */
export function addAlarm(k: Kernel, at: bigint, fire: () => void): () => void {
  const a: Alarm = { at, fire };
  k.alarms.add(a);
  return () => k.alarms.delete(a);
}

/**
 * A process's CPU-time interval timers (ITIMER_VIRTUAL: user time, SIGVTALRM; ITIMER_PROF:
 * user and system time, SIGPROF): deadlines on the process's CPU clock, checked after each
 * of its traps (a process that computes without system calls is kicked by the control
 * worker's tick while a timer is armed).
 */
export interface CpuITimers {
  virt?: ITimer;
  prof?: ITimer;
}

const SIGVTALRM = 26;
const SIGPROF = 27;

/** The process's CPU clocks now: [user, user + system]. */
export function processCpuNs(t: Task): [bigint, bigint] {
  const p = processTimes(t);
  return [p.userNs, p.userNs + p.sysNs];
}

/** Fires `t`'s process's due CPU-time timers, re-arming periodic ones. */
export function fireCpuTimers(t: Task): void {
  const timers = t.kernel.cpuTimers.get(t.leader);
  if (timers === undefined) return;
  const [user, prof] = processCpuNs(t);
  const due = (tm: ITimer | undefined, now: bigint, signo: number): ITimer | undefined => {
    if (tm === undefined || now < tm.deadline) return tm;
    signalProcess(t.leader, { signo, code: SI_KERNEL });
    if (tm.interval === 0n) return undefined;
    const missed = (now - tm.deadline) / tm.interval;
    tm.deadline += (missed + 1n) * tm.interval;
    return tm;
  };
  const virt = due(timers.virt, user, SIGVTALRM);
  const p = due(timers.prof, prof, SIGPROF);
  if (virt === undefined && p === undefined) t.kernel.cpuTimers.delete(t.leader);
  else t.kernel.cpuTimers.set(t.leader, { ...(virt ? { virt } : {}), ...(p ? { prof: p } : {}) });
}

/** True while some timer is armed (the run loop then checks, the worker then ticks). */
export function timersArmed(k: Kernel): boolean {
  return (
    k.itimers.size > 0 || k.alarms.size > 0 || k.cpuTimers.size > 0 || k.cpuPosixTimers.size > 0
  );
}

/** The nearest deadline, or -1n. */
export function nextTimerDeadline(k: Kernel): bigint {
  let at = -1n;
  for (const tm of k.itimers.values()) if (at < 0n || tm.deadline < at) at = tm.deadline;
  for (const a of k.alarms) if (at < 0n || a.at < at) at = a.at;
  return at;
}

/** Fires every due timer: SIGALRM to its process, re-armed by its interval; due alarms. */
export function fireTimers(k: Kernel): void {
  if (k.alarms.size > 0) {
    const now = k.monotonicNs();
    for (const a of [...k.alarms]) {
      if (a.at > now || !k.alarms.delete(a)) continue;
      a.fire();
    }
  }
  const m = k.itimers;
  if (m.size === 0) return;
  const now = k.monotonicNs();
  for (const [p, tm] of [...m]) {
    if (p.zombie || ![...p.threads].some((u) => u.exit.kind === 'running')) {
      m.delete(p);
      continue;
    }
    if (tm.deadline > now) continue;
    signalProcess(p, { signo: SIGALRM, code: SI_KERNEL });
    if (tm.interval > 0n) {
      const missed = (now - tm.deadline) / tm.interval;
      tm.deadline += (missed + 1n) * tm.interval;
    } else m.delete(p);
  }
}
