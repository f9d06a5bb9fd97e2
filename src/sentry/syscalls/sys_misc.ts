// Miscellany: getrandom (from the Sentry's CSPRNG, never a host device), and futex for a
// single thread (see futex()).

import { BLOCKED, restartOf, signalPending, timeLeft } from '../kernel/block.js';
import { randomFillSync } from 'node:crypto';
import { Errno } from '../../abi/linux/errno.js';
import type { Task } from '../kernel/task.js';
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
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_CLOCK_REALTIME = 256;
const FUTEX_CMD_MASK = ~(128 | 256);

/**
 * Implements Linux syscall futex(2) for a single-threaded process: WAKE finds no waiter; WAIT
 * on a matching value sleeps until its timeout (ETIMEDOUT) or a signal (EINTR) — with one
 * thread nothing else can wake it, exactly as on Linux. Other operations answer ENOSYS.
 */
function futex(t: Task, a: readonly bigint[]): number {
  const rawOp = int(a[1] ?? 0n);
  const op = rawOp & FUTEX_CMD_MASK;
  const addr = a[0] ?? 0n;
  switch (op) {
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      if (addr % 4n !== 0n) return -Errno.EINVAL;
      if (op === FUTEX_WAKE_BITSET && uint(a[5] ?? 0n) === 0) return -Errno.EINVAL;
      return 0;
    }
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      if (t.restart !== undefined) {
        // A parked wait: nothing can wake it but its timeout or a signal.
        if (timeLeft(t, t.restart) === 0n) return -Errno.ETIMEDOUT;
        return signalPending(t) ? -Errno.EINTR : BLOCKED;
      }
      if (addr % 4n !== 0n) return -Errno.EINVAL;
      if (op === FUTEX_WAIT_BITSET && uint(a[5] ?? 0n) === 0) return -Errno.EINVAL;
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
      const r = restartOf(t, timeoutNs);
      if (timeLeft(t, r) === 0n) return -Errno.ETIMEDOUT;
      return signalPending(t) ? -Errno.EINTR : BLOCKED;
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
      note: 'one thread per process: WAIT/WAKE (and _BITSET) only; a wait ends by timeout or signal, not by a wake from a process sharing the memory',
    },
  ],
]);
