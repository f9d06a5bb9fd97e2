// The state the control plane (a worker thread serving the control socket) shares with the
// Sentry's synchronous main thread: a small Int32Array over a SharedArrayBuffer, read and
// written with Atomics only. The main thread never waits on a Promise for it: it blocks in
// Atomics.wait (before start) and is interrupted while the application runs by a "kick"
// signal that the worker sends to the running stub.

export const CTL = {
  /** 0 = created, 1 = start requested. The main thread waits on this slot. */
  started: 0,
  /** Pending signals 1..31 as bits (bit n-1 for signal n). */
  pendingLo: 1,
  /** Pending signals 32..64 as bits (bit n-32). */
  pendingHi: 2,
  /** The host pid of the running stub, 0 when none. */
  stubPid: 3,
  /** 1 once the init process exited. */
  exited: 4,
  /** The slot sleeping system calls wait on, so that a signal can wake them. */
  sleep: 5,
  /** How many live PIDs follow from `pids` on (for ps); -1 while the list is being written. */
  pidCount: 6,
  /** Bumped by the main thread each time a task starts a time slice on the CPU. */
  sliceSeq: 7,
  /** How many other tasks may need the CPU: ready, or parked (the worker preempts for them). */
  runnable: 8,
  /** 1 when the worker saw application memory past the limit (the main thread OOM-kills). */
  oom: 9,
  /** Lanes 1.. of the run loop (lane 0 is stubPid and sliceSeq): a pid and a seq each. */
  lane1Pid: 10,
  /** The first of MAX_LISTED_PIDS slots of live PIDs (virtual, the sandbox's own). */
  pids: 16,
} as const;

export const MAX_LISTED_PIDS = 1024;

/** The slots of lane `i`'s running stub and slice counter (i < 4). */
export function laneSlots(i: number): { pid: number; seq: number } {
  return i === 0 ? { pid: CTL.stubPid, seq: CTL.sliceSeq } : { pid: 8 + 2 * i, seq: 9 + 2 * i };
}
export const CTL_LANES = 4;
export const CTL_SLOTS = CTL.pids + MAX_LISTED_PIDS;

/** Publishes the live PIDs (main thread). */
export function publishPids(s: Int32Array, pids: readonly number[]): void {
  Atomics.store(s, CTL.pidCount, -1);
  const n = Math.min(pids.length, MAX_LISTED_PIDS);
  for (let i = 0; i < n; i++) Atomics.store(s, CTL.pids + i, pids[i] ?? 0);
  Atomics.store(s, CTL.pidCount, n);
}

/** Reads the live PIDs (control worker); retries while the main thread is writing them. */
export function readPids(s: Int32Array): number[] {
  for (let tries = 0; tries < 1000; tries++) {
    const n = Atomics.load(s, CTL.pidCount);
    if (n < 0) continue;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(Atomics.load(s, CTL.pids + i));
    if (Atomics.load(s, CTL.pidCount) === n) return out;
  }
  return [];
}

export function newControlState(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CTL_SLOTS * 4));
}

/** Takes and clears every pending signal, lowest first. */
export function takePendingSignals(s: Int32Array): number[] {
  const lo = Atomics.exchange(s, CTL.pendingLo, 0) >>> 0;
  const hi = Atomics.exchange(s, CTL.pendingHi, 0) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if ((lo >>> i) & 1) out.push(i + 1);
  for (let i = 0; i < 32; i++) if ((hi >>> i) & 1) out.push(i + 32);
  return out;
}

export function addPendingSignal(s: Int32Array, sig: number): void {
  if (sig >= 1 && sig <= 31) Atomics.or(s, CTL.pendingLo, 1 << (sig - 1));
  else if (sig >= 32 && sig <= 64) Atomics.or(s, CTL.pendingHi, 1 << (sig - 32));
}
