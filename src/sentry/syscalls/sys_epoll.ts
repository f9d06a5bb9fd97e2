// Event files: eventfd, eventfd2, and epoll (epoll_create, epoll_create1, epoll_ctl,
// epoll_wait, epoll_pwait, epoll_pwait2). The objects are fsimpl/anon; waits park the task
// (kernel/block.ts) and are tried again after other tasks' system calls, and on a timer for
// host files. Nothing here reaches the host.

import { Errno } from '../../abi/linux/errno.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../../abi/linux/file.js';
import { BLOCKED, restartOf, signalPending, timeLeft, waitOnFiles } from '../kernel/block.js';
import type { Task } from '../kernel/task.js';
import { anonFile } from '../fsimpl/anon/anon.js';
import {
  EPOLLET,
  EPOLLEXCLUSIVE,
  EPOLLWAKEUP,
  EpollInstance,
  epollImpl,
  epollOf,
} from '../fsimpl/anon/epoll.js';
import { EventCounter, eventfdImpl } from '../fsimpl/anon/eventfd.js';
import { int, uint } from './args.js';
import { readTimespecNs, withMask } from './sys_poll.js';
import type { SyscallEntry } from './types.js';

const EFD_SEMAPHORE = 1;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
const EVENT_SIZE = 12;
const EP_MAX_EVENTS = Math.floor(0x7fffffff / EVENT_SIZE);
const USER_TOP = 0x800000000000n;

/** Implements Linux syscall eventfd2(2) (and eventfd(2) with no flags). */
function eventfd2(t: Task, a: readonly bigint[]): number {
  const flags = int(a[1] ?? 0n);
  if ((flags & ~(EFD_SEMAPHORE | O_CLOEXEC | O_NONBLOCK)) !== 0) return -Errno.EINVAL;
  const c = new EventCounter(BigInt(uint(a[0] ?? 0n)), (flags & EFD_SEMAPHORE) !== 0);
  const f = anonFile(eventfdImpl(c), O_RDWR | (flags & O_NONBLOCK));
  const fd = t.files.install(f, (flags & O_CLOEXEC) !== 0);
  if (fd < 0) f.decRef();
  return fd;
}

function newEpoll(t: Task, cloexec: boolean): number {
  const f = anonFile(epollImpl(new EpollInstance()), O_RDWR);
  const fd = t.files.install(f, cloexec);
  if (fd < 0) f.decRef();
  return fd;
}

/** Implements Linux syscall epoll_create1(2). */
function epollCreate1(t: Task, a: readonly bigint[]): number {
  const flags = int(a[0] ?? 0n);
  if ((flags & ~O_CLOEXEC) !== 0) return -Errno.EINVAL;
  return newEpoll(t, flags !== 0);
}

/** Implements Linux syscall epoll_create(2): the size must be positive, and is ignored. */
function epollCreate(t: Task, a: readonly bigint[]): number {
  return int(a[0] ?? 0n) <= 0 ? -Errno.EINVAL : newEpoll(t, false);
}

/** Implements Linux syscall epoll_ctl(2), with Linux's order of checks. */
function epollCtl(t: Task, a: readonly bigint[]): number {
  const op = int(a[1] ?? 0n);
  let events = 0;
  let data = 0n;
  if (op !== EPOLL_CTL_DEL) {
    const b = t.mem.copyIn(a[3] ?? 0n, EVENT_SIZE);
    if (typeof b === 'number') return b;
    const dv = new DataView(b.buffer);
    events = dv.getUint32(0, true) | 0;
    data = dv.getBigUint64(4, true);
  }
  const ep = t.files.get(int(a[0] ?? 0n));
  if (ep === undefined) return -Errno.EBADF;
  const fd = int(a[2] ?? 0n);
  const target = t.files.get(fd);
  if (target === undefined) return -Errno.EBADF;
  if (target.impl?.readiness === undefined) return -Errno.EPERM;
  const inst = epollOf(ep);
  if (inst === null || ep === target) return -Errno.EINVAL;
  if ((events & EPOLLEXCLUSIVE) !== 0) {
    if (op === EPOLL_CTL_MOD) return -Errno.EINVAL;
    if (
      op === EPOLL_CTL_ADD &&
      ((events & ~(EPOLLEXCLUSIVE | EPOLLET | EPOLLWAKEUP | 0x1f)) !== 0 ||
        epollOf(target) !== null)
    )
      return -Errno.EINVAL;
  }
  switch (op) {
    case EPOLL_CTL_ADD: {
      const inner = epollOf(target);
      if (inner !== null && (inner === inst || inner.watches(inst))) return -Errno.ELOOP;
      return inst.add(fd, target, events, data);
    }
    case EPOLL_CTL_MOD:
      return inst.modify(fd, target, events, data);
    case EPOLL_CTL_DEL:
      return inst.remove(fd, target);
    default:
      return -Errno.EINVAL;
  }
}

/** The common core of the epoll waits; `timeoutNs` -1n waits for ever. */
function epollWait(t: Task, a: readonly bigint[], timeoutNs: bigint): number {
  const max = int(a[2] ?? 0n);
  if (max <= 0 || max > EP_MAX_EVENTS) return -Errno.EINVAL;
  const ptr = a[1] ?? 0n;
  if (ptr >= USER_TOP || ptr + BigInt(max * EVENT_SIZE) > USER_TOP) return -Errno.EFAULT;
  const ep = t.files.get(int(a[0] ?? 0n));
  if (ep === undefined) return -Errno.EBADF;
  const inst = epollOf(ep);
  if (inst === null) return -Errno.EINVAL;
  const r = restartOf(t, timeoutNs);
  if (r.cleanup === undefined) r.pollsHost = true;
  const ready = inst.collect(max);
  if (ready.length > 0) {
    const out = new Uint8Array(ready.length * EVENT_SIZE);
    const dv = new DataView(out.buffer);
    ready.forEach((e, i) => {
      dv.setUint32(i * EVENT_SIZE, e.events, true);
      dv.setBigUint64(i * EVENT_SIZE + 4, e.data, true);
    });
    const c = t.mem.copyOut(ptr, out);
    return c < 0 ? c : ready.length;
  }
  if (timeLeft(t, r) === 0n) return 0;
  if (signalPending(t)) return -Errno.EINTR;
  // Sleeps until a watched file notifies, when all of them can (else retried, and on a
  // timer for host files).
  if (r.cleanup === undefined && ep.impl !== null && inst.notifies()) waitOnFiles(t, [ep.impl]);
  return BLOCKED;
}

function msTimeout(v: bigint): bigint {
  const ms = int(v);
  return ms < 0 ? -1n : BigInt(ms) * 1_000_000n;
}

/** Implements Linux syscall epoll_pwait2(2): the timeout is a struct timespec (NULL: none). */
function epollPwait2(t: Task, a: readonly bigint[]): number {
  const ns = readTimespecNs(t, a[3] ?? 0n);
  if (typeof ns === 'number') return ns;
  return withMask(t, a[4] ?? 0n, a[5] ?? 0n, () => epollWait(t, a, ns));
}

export const epollSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [284, { name: 'eventfd', handler: (t, a) => eventfd2(t, [a[0] ?? 0n, 0n]), support: 'full' }],
  [290, { name: 'eventfd2', handler: eventfd2, support: 'full' }],
  [213, { name: 'epoll_create', handler: epollCreate, support: 'full' }],
  [291, { name: 'epoll_create1', handler: epollCreate1, support: 'full' }],
  [
    233,
    {
      name: 'epoll_ctl',
      handler: epollCtl,
      support: 'partial',
      note: 'EPOLLEXCLUSIVE and EPOLLWAKEUP have no effect',
    },
  ],
  [
    232,
    {
      name: 'epoll_wait',
      handler: (t, a) => epollWait(t, a, msTimeout(a[3] ?? 0n)),
      support: 'full',
    },
  ],
  [
    281,
    {
      name: 'epoll_pwait',
      handler: (t, a) =>
        withMask(t, a[4] ?? 0n, a[5] ?? 0n, () => epollWait(t, a, msTimeout(a[3] ?? 0n))),
      support: 'full',
    },
  ],
  [441, { name: 'epoll_pwait2', handler: epollPwait2, support: 'full' }],
]);
