// The file system calls that open and close descriptors: open, openat, close, close_range.
// They resolve through the vfs (vfs/open.ts) and install into the task's fd table. Never throws.

import { Errno } from '../../abi/linux/errno.js';
import {
  AT_FDCWD,
  CLOSE_RANGE_CLOEXEC,
  CLOSE_RANGE_UNSHARE,
  O_CLOEXEC,
} from '../../abi/linux/file.js';
import { openAt } from '../vfs/open.js';
import { argInt, argPath, argUint } from './sys_file_common.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';

/** Opens (dirfd, path at pathAddr) and installs it: the new fd or -errno (open, openat, creat). */
export function doOpen(
  ctx: SyscallContext,
  dirfd: number,
  pathAddr: bigint,
  flags: number,
  mode: number,
): number {
  const path = argPath(ctx, pathAddr);
  if (typeof path === 'number') return path;
  const f = openAt(ctx, dirfd, path, flags, mode);
  if (typeof f === 'number') return f;
  const fd = ctx.files.install(f, (flags & O_CLOEXEC) !== 0);
  if (fd < 0) f.decRef();
  return fd;
}

/**
 * Implements Linux syscall open(2).
 * Differences from Linux: see vfs/open.ts (O_CREAT through a dangling symlink, O_TMPFILE).
 */
function sysOpen(ctx: SyscallContext, a: SyscallArgs): number {
  return doOpen(ctx, AT_FDCWD, a[0], argInt(a[1]), argUint(a[2]) & 0o7777);
}

/**
 * Implements Linux syscall openat(2).
 * Differences from Linux: see vfs/open.ts (O_CREAT through a dangling symlink, O_TMPFILE).
 */
function sysOpenat(ctx: SyscallContext, a: SyscallArgs): number {
  return doOpen(ctx, argInt(a[0]), a[1], argInt(a[2]), argUint(a[3]) & 0o7777);
}

/** Implements Linux syscall close(2). */
function sysClose(ctx: SyscallContext, a: SyscallArgs): number {
  return ctx.files.close(argInt(a[0]));
}

/**
 * Implements Linux syscall close_range(2).
 * Difference from Linux: CLOSE_RANGE_UNSHARE is accepted but does not unshare a table shared
 * with other threads (the kernel's clone owns table sharing).
 */
function sysCloseRange(ctx: SyscallContext, a: SyscallArgs): number {
  const first = argUint(a[0]);
  const last = argUint(a[1]);
  const flags = argUint(a[2]);
  if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) !== 0) return -Errno.EINVAL;
  if (first > last) return -Errno.EINVAL;
  ctx.files.closeRange(first, last, (flags & CLOSE_RANGE_CLOEXEC) !== 0);
  return 0;
}

export const openSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [2, { name: 'open', handler: sysOpen, support: 'partial', note: 'O_TMPFILE: EOPNOTSUPP' }],
  [3, { name: 'close', handler: sysClose, support: 'full' }],
  [257, { name: 'openat', handler: sysOpenat, support: 'partial', note: 'O_TMPFILE: EOPNOTSUPP' }],
  [
    436,
    {
      name: 'close_range',
      handler: sysCloseRange,
      support: 'partial',
      note: 'UNSHARE does not unshare',
    },
  ],
];
