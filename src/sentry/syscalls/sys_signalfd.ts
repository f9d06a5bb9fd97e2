// signalfd and signalfd4: a file that reads the caller's pending signals of a mask
// (fsimpl/anon/signalfd.ts). Nothing here reaches the host.

import { Errno } from '../../abi/linux/errno.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../../abi/linux/file.js';
import { UNBLOCKABLE } from '../kernel/signals.js';
import type { Task } from '../kernel/task.js';
import { anonFile } from '../fsimpl/anon/anon.js';
import { SignalFd, signalfdImpl, signalfdOf } from '../fsimpl/anon/signalfd.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

/** signalfd4's checks in Linux's order: flags, mask size, the mask itself, then the fd. */
function signalfdCommon(t: Task, a: readonly bigint[], flags: number): number {
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK)) !== 0) return -Errno.EINVAL;
  if ((a[2] ?? 0n) !== 8n) return -Errno.EINVAL;
  const b = t.mem.copyIn(a[1] ?? 0n, 8);
  if (typeof b === 'number') return b;
  const mask = (new BigUint64Array(b.buffer)[0] ?? 0n) & ~UNBLOCKABLE;
  const fd = int(a[0] ?? 0n);
  if (fd !== -1) {
    const f = t.files.get(fd);
    if (f === undefined) return -Errno.EBADF;
    const s = signalfdOf(f.impl);
    if (s === null) return -Errno.EINVAL;
    s.mask = mask;
    return fd;
  }
  const f = anonFile(signalfdImpl(new SignalFd(t.kernel, mask)), O_RDWR | (flags & O_NONBLOCK));
  const nfd = t.files.install(f, (flags & O_CLOEXEC) !== 0);
  if (nfd < 0) f.decRef();
  return nfd;
}

/** Implements Linux syscall signalfd4(2). */
function signalfd4(t: Task, a: readonly bigint[]): number {
  return signalfdCommon(t, a, int(a[3] ?? 0n));
}

/** Implements Linux syscall signalfd(2) (signalfd4 without flags). */
function signalfd(t: Task, a: readonly bigint[]): number {
  return signalfdCommon(t, a, 0);
}

export const signalfdSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [
    289,
    {
      name: 'signalfd4',
      handler: signalfd4,
      support: 'full',
      note: "the caller's pending signals, then its process leader's",
    },
  ],
  [282, { name: 'signalfd', handler: signalfd, support: 'full' }],
]);
