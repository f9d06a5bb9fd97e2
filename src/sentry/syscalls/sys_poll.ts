// Readiness: poll, ppoll, select, pselect6. A file reports its POLL* events through
// FileImpl.readiness(); files without one (regular files, directories) are always ready, as
// on Linux. A wait parks the task (kernel/block.ts) and is tried again whenever another task
// made a system call, and every 10 ms for host fds (the caller's stdio); a signal ends it
// with EINTR.

import { Errno } from '../../abi/linux/errno.js';
import {
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
  POLLRDNORM,
} from '../../abi/linux/file.js';
import {
  BLOCKED,
  restartOf,
  signalPending,
  timeLeft,
  waitOnFiles,
  type Waitable,
} from '../kernel/block.js';
import { UNBLOCKABLE } from '../kernel/signals.js';
import type { Task } from '../kernel/task.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

const POLLWRNORM = 0x100;
const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
const MAX_FDS = 1 << 20;

/** The events ready on `fd` now; POLLNVAL for a bad or O_PATH fd. */
function readyOn(t: Task, fd: number): number {
  const f = t.files.get(fd);
  if (f === undefined || f.impl === null) return POLLNVAL;
  return f.impl.readiness?.() ?? DEFAULT_POLLMASK;
}

/**
 * Waits until `check` reports something, the timeout (ns, -1n forever) passes, or a signal:
 * parks the task (BLOCKED) in between, woken by the files named in `fds` (with the events
 * waited for on each); a file that cannot notify keeps the call retried (and on a timer).
 */
function waitFor(
  t: Task,
  timeoutNs: bigint,
  check: () => number,
  fds?: ReadonlyArray<[number, number]>,
): number {
  const r = restartOf(t, timeoutNs);
  if (r.cleanup === undefined && r.evented !== true) r.pollsHost = true;
  const n = check();
  if (n !== 0) return n;
  if (timeLeft(t, r) === 0n) return 0;
  if (signalPending(t)) return -Errno.EINTR;
  if (fds !== undefined && r.cleanup === undefined) {
    const files: Waitable[] = [];
    const events: number[] = [];
    for (const [fd, ev] of fds) {
      const impl = fd >= 0 ? t.files.get(fd)?.impl : undefined;
      if (impl === null || impl === undefined) continue;
      files.push(impl);
      events.push(ev);
    }
    waitOnFiles(t, files, events);
  }
  return BLOCKED;
}

function pollFds(t: Task, fdsPtr: bigint, nfds: number, timeoutNs: bigint): number {
  if (nfds < 0 || nfds > t.files.limit || nfds > MAX_FDS) return -Errno.EINVAL;
  const b = t.mem.copyIn(fdsPtr, nfds * 8);
  if (typeof b === 'number') return b;
  const dv = new DataView(b.buffer);
  const check = (): number => {
    let n = 0;
    for (let i = 0; i < nfds; i++) {
      const fd = dv.getInt32(i * 8, true);
      const events = dv.getUint16(i * 8 + 4, true);
      let rev = 0;
      if (fd >= 0) rev = readyOn(t, fd) & (events | POLLERR | POLLHUP | POLLNVAL);
      dv.setUint16(i * 8 + 6, rev, true);
      if (rev !== 0) n++;
    }
    return n;
  };
  const fds = (): Array<[number, number]> => {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < nfds; i++)
      out.push([dv.getInt32(i * 8, true), dv.getUint16(i * 8 + 4, true)]);
    return out;
  };
  const r = waitFor(t, timeoutNs, check, fds());
  if (r < 0) return r;
  const w = t.mem.copyOut(fdsPtr, b);
  return w < 0 ? w : r;
}

export function readTimespecNs(t: Task, p: bigint): bigint | number {
  if (p === 0n) return -1n;
  const b = t.mem.copyIn(p, 16);
  if (typeof b === 'number') return b;
  const v = new BigInt64Array(b.buffer);
  const sec = v[0] ?? 0n;
  const nsec = v[1] ?? 0n;
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) return -Errno.EINVAL;
  return sec * 1_000_000_000n + nsec;
}

/** Runs `f` with the temporary signal mask at `maskPtr` (ppoll, pselect6), as Linux does. */
export function withMask(t: Task, maskPtr: bigint, size: bigint, f: () => number): number {
  if (maskPtr === 0n) return f();
  if (size !== 8n) return -Errno.EINVAL;
  const b = t.mem.copyIn(maskPtr, 8);
  if (typeof b === 'number') return b;
  const old = t.sigmask;
  t.sigmask = (new BigUint64Array(b.buffer)[0] ?? 0n) & ~UNBLOCKABLE;
  const r = f();
  // Interrupted: the caller's mask comes back through the signal's frame; else now.
  if (r === -Errno.EINTR) t.savedMaskAfterSuspend = old;
  else t.sigmask = old;
  return r;
}

/** Implements Linux syscall poll(2). */
function poll(t: Task, a: readonly bigint[]): number {
  const ms = int(a[2] ?? 0n);
  return pollFds(t, a[0] ?? 0n, int(a[1] ?? 0n), ms < 0 ? -1n : BigInt(ms) * 1_000_000n);
}

/** Implements Linux syscall ppoll(2). The remaining time is not written back. */
function ppoll(t: Task, a: readonly bigint[]): number {
  const ns = readTimespecNs(t, a[2] ?? 0n);
  if (typeof ns === 'number') return ns;
  return withMask(t, a[3] ?? 0n, a[4] ?? 0n, () => pollFds(t, a[0] ?? 0n, int(a[1] ?? 0n), ns));
}

const SEL_IN = POLLIN | POLLRDNORM | POLLHUP | POLLERR;
const SEL_OUT = POLLOUT | POLLWRNORM | POLLERR;
const SEL_EX = POLLPRI;

function selectFds(t: Task, nfds: number, ptrs: readonly bigint[], timeoutNs: bigint): number {
  if (nfds < 0 || nfds > t.files.limit) return -Errno.EINVAL;
  const bytes = Math.ceil(nfds / 64) * 8;
  const sets: Array<Uint8Array | null> = [];
  for (const p of ptrs) {
    if (p === 0n || bytes === 0) {
      sets.push(null);
      continue;
    }
    const b = t.mem.copyIn(p, bytes);
    if (typeof b === 'number') return b;
    sets.push(b);
  }
  const masks = [SEL_IN, SEL_OUT, SEL_EX];
  // Every fd named must be open.
  for (const s of sets) {
    if (s === null) continue;
    for (let fd = 0; fd < nfds; fd++)
      if ((s[fd >> 3] ?? 0) & (1 << (fd & 7)) && t.files.get(fd) === undefined) return -Errno.EBADF;
  }
  const out = sets.map((s) => (s === null ? null : new Uint8Array(s.length)));
  const check = (): number => {
    let n = 0;
    for (let fd = 0; fd < nfds; fd++) {
      let ready = -1;
      sets.forEach((s, k) => {
        const o = out[k];
        if (
          s === null ||
          o === null ||
          o === undefined ||
          ((s[fd >> 3] ?? 0) & (1 << (fd & 7))) === 0
        )
          return;
        if (ready < 0) ready = readyOn(t, fd);
        if ((ready & (masks[k] ?? 0)) !== 0) {
          o[fd >> 3] = (o[fd >> 3] ?? 0) | (1 << (fd & 7));
          n++;
        }
      });
    }
    return n;
  };
  const named: Array<[number, number]> = [];
  for (let fd = 0; fd < nfds; fd++) {
    let ev = 0;
    sets.forEach((x, k) => {
      if (x !== null && ((x[fd >> 3] ?? 0) & (1 << (fd & 7))) !== 0) ev |= masks[k] ?? 0;
    });
    if (ev !== 0) named.push([fd, ev]);
  }
  const r = waitFor(t, timeoutNs, check, named);
  if (r < 0) return r;
  for (let k = 0; k < 3; k++) {
    const o = out[k];
    const p = ptrs[k] ?? 0n;
    if (o === null || o === undefined || p === 0n) continue;
    const w = t.mem.copyOut(p, o);
    if (w < 0) return w;
  }
  return r;
}

/** Implements Linux syscall select(2). The remaining time is not written back. */
function select(t: Task, a: readonly bigint[]): number {
  let ns = -1n;
  const tv = a[4] ?? 0n;
  if (tv !== 0n) {
    const b = t.mem.copyIn(tv, 16);
    if (typeof b === 'number') return b;
    const v = new BigInt64Array(b.buffer);
    const sec = v[0] ?? 0n;
    const usec = v[1] ?? 0n;
    if (sec < 0n || usec < 0n) return -Errno.EINVAL;
    ns = sec * 1_000_000_000n + usec * 1000n;
  }
  return selectFds(t, int(a[0] ?? 0n), [a[1] ?? 0n, a[2] ?? 0n, a[3] ?? 0n], ns);
}

/** Implements Linux syscall pselect6(2). */
function pselect6(t: Task, a: readonly bigint[]): number {
  const ns = readTimespecNs(t, a[4] ?? 0n);
  if (typeof ns === 'number') return ns;
  let maskPtr = 0n;
  let size = 8n;
  const sp = a[5] ?? 0n;
  if (sp !== 0n) {
    const b = t.mem.copyIn(sp, 16);
    if (typeof b === 'number') return b;
    const v = new BigUint64Array(b.buffer);
    maskPtr = v[0] ?? 0n;
    size = v[1] ?? 0n;
  }
  return withMask(t, maskPtr, size, () =>
    selectFds(t, int(a[0] ?? 0n), [a[1] ?? 0n, a[2] ?? 0n, a[3] ?? 0n], ns),
  );
}

export const pollSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [7, { name: 'poll', handler: poll, support: 'full' }],
  [
    271,
    {
      name: 'ppoll',
      handler: ppoll,
      support: 'partial',
      note: 'the remaining time is not written back',
    },
  ],
  [
    23,
    {
      name: 'select',
      handler: select,
      support: 'partial',
      note: 'the remaining time is not written back',
    },
  ],
  [
    270,
    {
      name: 'pselect6',
      handler: pselect6,
      support: 'partial',
      note: 'the remaining time is not written back',
    },
  ],
]);
