// Futex wait queues: tasks parked in FUTEX_WAIT are kept by the futex's key, the offset of its
// word in the memory file, so that threads of one process and processes sharing memory
// (MAP_SHARED) find each other; FUTEX_WAKE and FUTEX_REQUEUE mark waiters woken, and the
// scheduler's next retry of their wait returns 0 (kernel/block.ts).
//
// It must never touch memory outside a mapping (-EFAULT) and never leave a task in a queue
// after its wait ended (a stale entry is skipped and dropped).

import { wakeTask } from './block.js';
import type { Task } from './task.js';

/** What a parked FUTEX_WAIT keeps in t.restart.data. */
export interface FutexWait {
  kind: 'futex';
  key: string;
  bitset: number;
  woken: boolean;
}

export function isFutexWait(d: unknown): d is FutexWait {
  return typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === 'futex';
}

/**
 * The key of the futex word at `addr` in `t`'s address space, or -EFAULT/-EINVAL: private
 * memory (or a FUTEX_PRIVATE_FLAG operation) by address space and address, shared memory by
 * its page in the memory file, so every process mapping it finds the same queue.
 */
export function futexKey(t: Task, addr: bigint, priv = false): string | number {
  return t.mm.futexKey(addr, priv);
}

/** Parks `t` on `key` (the caller returns BLOCKED). */
export function futexEnqueue(t: Task, key: string, bitset: number): FutexWait {
  const w: FutexWait = { kind: 'futex', key, bitset, woken: false };
  const q = t.kernel.futexWaiters.get(key) ?? [];
  q.push(t);
  t.kernel.futexWaiters.set(key, q);
  return w;
}

/** The live waiters of `key`: tasks still parked in a wait on it. */
function waiters(t: Task, key: string): Task[] {
  const q = t.kernel.futexWaiters.get(key) ?? [];
  const live = q.filter((u) => {
    const d = u.restart?.data;
    return u.blocked !== undefined && isFutexWait(d) && d.key === key && !d.woken;
  });
  if (live.length === 0) t.kernel.futexWaiters.delete(key);
  else t.kernel.futexWaiters.set(key, live);
  return live;
}

/** Wakes up to `n` waiters of the futex at `addr` whose bitset meets `bitset`; how many. */
export function futexWake(t: Task, addr: bigint, n: number, bitset: number, priv = false): number {
  const key = futexKey(t, addr, priv);
  if (typeof key === 'number') return key;
  return wakeKey(t, key, n, bitset);
}

function wakeKey(t: Task, key: string, n: number, bitset: number): number {
  let woken = 0;
  for (const u of waiters(t, key)) {
    if (woken >= n) break;
    const d = u.restart?.data;
    if (!isFutexWait(d) || (d.bitset & bitset) === 0) continue;
    d.woken = true;
    wakeTask(u);
    woken++;
  }
  if (woken > 0) {
    waiters(t, key);
    t.kernel.wake = true;
  }
  return woken;
}

/** FUTEX_REQUEUE: wakes up to `n` waiters of `addr`, moves up to `m` more to `addr2`. */
export function futexRequeue(
  t: Task,
  addr: bigint,
  addr2: bigint,
  n: number,
  m: number,
  priv = false,
): number {
  const key = futexKey(t, addr, priv);
  if (typeof key === 'number') return key;
  const key2 = futexKey(t, addr2, priv);
  if (typeof key2 === 'number') return key2;
  const woken = wakeKey(t, key, n, -1);
  let moved = 0;
  const q2 = t.kernel.futexWaiters.get(key2) ?? [];
  for (const u of waiters(t, key)) {
    if (moved >= m) break;
    const d = u.restart?.data;
    if (!isFutexWait(d)) continue;
    d.key = key2;
    q2.push(u);
    moved++;
  }
  if (moved > 0) {
    t.kernel.futexWaiters.set(key2, q2);
    waiters(t, key);
  }
  return woken + moved;
}
