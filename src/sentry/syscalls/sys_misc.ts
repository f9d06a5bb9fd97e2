// Miscellany: getrandom (from the Sentry's CSPRNG, never a host device), and futex for a
// single thread (wake finds no waiter; a wait whose value differs answers EAGAIN; a wait that
// would sleep forever with no other thread to wake it blocks until a timeout, as on Linux).

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
const FUTEX_CMD_MASK = ~(128 | 256);

/** Implements Linux syscall futex(2) for a single-threaded process. */
function futex(t: Task, a: readonly bigint[]): number {
  const op = int(a[1] ?? 0n) & FUTEX_CMD_MASK;
  const addr = a[0] ?? 0n;
  if (addr % 4n !== 0n) return -Errno.EINVAL;
  switch (op) {
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const b = t.mem.copyIn(addr, 4);
      return typeof b === 'number' ? b : 0;
    }
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const b = t.mem.copyIn(addr, 4);
      if (typeof b === 'number') return b;
      const cur = new Int32Array(b.buffer)[0] ?? 0;
      if (cur !== int(a[2] ?? 0n)) return -Errno.EAGAIN;
      // No other thread exists that could wake us: only a timeout ends this wait.
      if ((a[3] ?? 0n) === 0n) return -Errno.EDEADLK;
      return -Errno.ETIMEDOUT;
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
      note: 'single-threaded: WAIT/WAKE only; an endless wait answers EDEADLK instead of hanging',
    },
  ],
]);
