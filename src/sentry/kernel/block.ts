// Blocking system calls without blocking the Sentry: a handler that must wait (wait4 with no
// exited child, read of an empty pipe, nanosleep…) returns -EBLOCKED instead of sleeping. The
// scheduler parks the task and calls the same handler again with the same arguments whenever
// something may have changed, until it answers anything else. A handler keeps what must survive
// between tries (its deadline, a saved mask) in `t.restart`, which the scheduler clears once
// the call completes.
//
// EBLOCKED is kernel-internal: it must never reach the application.

import type { Task } from './task.js';

/** Kernel-internal errno: "park me and call me again". */
export const EBLOCKED = 530;
export const BLOCKED = -EBLOCKED;

/** What a blocking call keeps across its tries. */
export interface Restart {
  /** Monotonic ns when the wait times out, or -1n for never. */
  deadline: bigint;
  /** The wait also depends on host files (stdio): retry it on a timer, not only on events. */
  pollsHost?: boolean;
  /** Handler-specific state (a saved signal mask, the first try's result…). */
  data?: unknown;
  /**
   * The wait is event-driven: the task is retried only when something calls wakeTask for it
   * (a futex wake, a child's exit), a signal is queued for it, or its deadline passes — never
   * merely because another task made a system call.
   */
  evented?: boolean;
  /** Undoes the wait's registrations (file subscriptions) when the call ends. */
  cleanup?: (() => void) | undefined;
}

/** What a parked call may wait on: something that calls back when its readiness changes. */
export interface Waitable {
  subscribe?(cb: () => void, events?: number): () => void;
  readiness?(): number;
}

/**
 * The call of `t` is about to park until one of `files` changes: it is woken by their
 * notifications instead of being retried after every system call. False (and nothing
 * registered) when one of them cannot notify, so the call stays polled. `events[i]` is what
 * the call waits for on `files[i]` (POLL* bits; a host file watches for just those).
 */
export function waitOnFiles(
  t: Task,
  files: readonly Waitable[],
  events?: readonly number[],
): boolean {
  const r = restartOf(t, -1n);
  if (r.cleanup !== undefined) return true;
  for (const f of files) if (f.subscribe === undefined && f.readiness !== undefined) return false;
  const unsubs: Array<() => void> = [];
  const wake = (): void => wakeTask(t);
  files.forEach((f, i) => {
    if (f.subscribe !== undefined) unsubs.push(f.subscribe(wake, events?.[i]));
  });
  r.evented = true;
  r.pollsHost = false;
  r.cleanup = () => {
    for (const u of unsubs) u();
  };
  return true;
}

/** Marks the parked call of `t` for a retry (what it waits for may have happened). */
export function wakeTask(t: Task): void {
  const k = t.kernel;
  if (k.blocked.has(t)) k.ready.add(t);
  k.wake = true;
}

/** The call's Restart, created on the first try with a deadline `timeoutNs` from now (-1n: none). */
export function restartOf(t: Task, timeoutNs: bigint): Restart {
  t.restart ??= {
    deadline: timeoutNs < 0n ? -1n : t.kernel.monotonicNs() + timeoutNs,
  };
  return t.restart;
}

/** Nanoseconds left before `r`'s deadline (0n when passed; -1n when there is none). */
export function timeLeft(t: Task, r: Restart): bigint {
  if (r.deadline < 0n) return -1n;
  const left = r.deadline - t.kernel.monotonicNs();
  return left > 0n ? left : 0n;
}

/** A signal that would interrupt a wait: pending and not blocked. */
export function signalPending(t: Task): boolean {
  return (t.pendingSignals & ~t.sigmask) !== 0n || t.exit.kind !== 'running';
}
