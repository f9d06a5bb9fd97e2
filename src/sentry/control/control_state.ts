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
} as const;

export const CTL_SLOTS = 8;

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
