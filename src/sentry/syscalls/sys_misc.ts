// Miscellany: getrandom (from the Sentry's CSPRNG, never a host device), and futex (the wait
// queues are kernel/futex.ts).

import { BLOCKED, restartOf, signalPending, timeLeft } from '../kernel/block.js';
import { randomFillSync } from 'node:crypto';
import { Errno } from '../../abi/linux/errno.js';
import type { Task } from '../kernel/task.js';
import { futexEnqueue, futexKey, futexRequeue, futexWake, isFutexWait } from '../kernel/futex.js';
import { int, uint } from './args.js';
import type { SyscallEntry } from './types.js';

const GRND_NONBLOCK = 1;
const GRND_RANDOM = 2;
const GRND_INSECURE = 4;
const MAX_RANDOM = 33554431;

/** Implements Linux syscall getrandom(2). */
function getrandom(t: Task, a: readonly bigint[]): number {
  const flags = uint(a[2] ?? 0n);
  if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) !== 0) return -Errno.EINVAL;
  if ((flags & GRND_RANDOM) !== 0 && (flags & GRND_INSECURE) !== 0) return -Errno.EINVAL;
  const asked = a[1] ?? 0n;
  const len = asked > BigInt(MAX_RANDOM) ? MAX_RANDOM : Number(asked);
  const buf = new Uint8Array(len);
  randomFillSync(buf);
  return t.mem.copyOut(a[0] ?? 0n, buf);
}

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128;
const FUTEX_CLOCK_REALTIME = 256;
const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
const BITSET_ALL = -1;

/**
 * Implements Linux syscall futex(2): WAIT, WAKE, their _BITSET forms, REQUEUE and CMP_REQUEUE,
 * between the threads of a process and between processes that share the memory. A wait
 * parks the task until a wake, its timeout (ETIMEDOUT) or a signal. Priority-inheritance and
 * WAKE_OP operations answer ENOSYS.
 */
function futex(t: Task, a: readonly bigint[]): number {
  const rawOp = int(a[1] ?? 0n);
  const op = rawOp & FUTEX_CMD_MASK;
  const addr = a[0] ?? 0n;
  const priv = (rawOp & FUTEX_PRIVATE_FLAG) !== 0;
  switch (op) {
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      if (addr % 4n !== 0n) return -Errno.EINVAL;
      const bitset = op === FUTEX_WAKE_BITSET ? int(a[5] ?? 0n) : BITSET_ALL;
      if (bitset === 0) return -Errno.EINVAL;
      const n = int(a[2] ?? 0n);
      const r = futexWake(t, addr, n < 0 ? 0x7fffffff : n, bitset, priv);
      // A private futex's key is its address: waking an unmapped one finds nobody.
      return r < 0 && priv ? 0 : r;
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      if (addr % 4n !== 0n || (a[4] ?? 0n) % 4n !== 0n) return -Errno.EINVAL;
      const n = int(a[2] ?? 0n);
      const m = Number(BigInt.asIntN(32, a[3] ?? 0n));
      if (n < 0 || m < 0) return -Errno.EINVAL;
      if (op === FUTEX_CMP_REQUEUE) {
        const w = t.mem.copyIn(addr, 4);
        if (typeof w === 'number') return w;
        if ((new Int32Array(w.buffer)[0] ?? 0) !== int(a[5] ?? 0n)) return -Errno.EAGAIN;
      }
      return futexRequeue(t, addr, a[4] ?? 0n, n, m, priv);
    }
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const r0 = t.restart;
      if (r0 !== undefined) {
        // A parked wait: a wake, its timeout, or a signal ends it.
        const d = r0.data;
        if (isFutexWait(d) && d.woken) return 0;
        if (timeLeft(t, r0) === 0n) return -Errno.ETIMEDOUT;
        if (signalPending(t)) return r0.deadline < 0n ? -Errno.ERESTARTSYS : -Errno.EINTR;
        return BLOCKED;
      }
      if (addr % 4n !== 0n) return -Errno.EINVAL;
      const bitset = op === FUTEX_WAIT_BITSET ? int(a[5] ?? 0n) : BITSET_ALL;
      if (bitset === 0) return -Errno.EINVAL;
      let timeoutNs = -1n;
      const tp = a[3] ?? 0n;
      if (tp !== 0n) {
        const b = t.mem.copyIn(tp, 16);
        if (typeof b === 'number') return b;
        const v = new BigInt64Array(b.buffer);
        const sec = v[0] ?? 0n;
        const nsec = v[1] ?? 0n;
        if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) return -Errno.EINVAL;
        timeoutNs = sec * 1_000_000_000n + nsec;
        if (op === FUTEX_WAIT_BITSET) {
          // An absolute time on CLOCK_MONOTONIC, or CLOCK_REALTIME with the flag.
          const now =
            (rawOp & FUTEX_CLOCK_REALTIME) !== 0 ? t.kernel.realtimeNs() : t.kernel.monotonicNs();
          timeoutNs = timeoutNs > now ? timeoutNs - now : 0n;
        }
      }
      const b = t.mem.copyIn(addr, 4);
      if (typeof b === 'number') return b;
      const cur = new Int32Array(b.buffer)[0] ?? 0;
      if (cur !== int(a[2] ?? 0n)) return -Errno.EAGAIN;
      const key = futexKey(t, addr, priv);
      if (typeof key === 'number') return key;
      const r = restartOf(t, timeoutNs);
      if (timeLeft(t, r) === 0n) return -Errno.ETIMEDOUT;
      r.data = futexEnqueue(t, key, bitset);
      // Retried only on a wake, a signal or the timeout (kernel/futex.ts wakes it).
      r.evented = true;
      return BLOCKED;
    }
    default:
      return -Errno.ENOSYS;
  }
}

export const miscSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [318, { name: 'getrandom', handler: getrandom, support: 'full' }],
  [
    202,
    {
      name: 'futex',
      handler: futex,
      support: 'partial',
      note: 'WAIT, WAKE (and _BITSET), REQUEUE, CMP_REQUEUE; no PI or WAKE_OP',
    },
  ],
]);
