// The file system calls on descriptors themselves: dup, dup2, dup3, fcntl and ioctl. They
// change the fd table and the open file's status flags; device-specific ioctls go to the file.
// Never throws.

import { Errno } from '../../abi/linux/errno.js';
import {
  FD_CLOEXEC,
  FIOCLEX,
  FIONBIO,
  FIONCLEX,
  FIONREAD,
  F_DUPFD,
  F_DUPFD_CLOEXEC,
  F_GETFD,
  F_GETFL,
  F_SETFD,
  F_SETFL,
  O_CLOEXEC,
  O_PATH,
} from '../../abi/linux/file.js';
import { argInt, copyInInt, copyOutInt } from './sys_file_common.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';

/** Implements Linux syscall dup(2). */
function sysDup(ctx: SyscallContext, a: SyscallArgs): number {
  return ctx.files.dup(argInt(a[0]));
}

/** Implements Linux syscall dup2(2). */
function sysDup2(ctx: SyscallContext, a: SyscallArgs): number {
  return ctx.files.dup2(argInt(a[0]), argInt(a[1]));
}

/** Implements Linux syscall dup3(2). */
function sysDup3(ctx: SyscallContext, a: SyscallArgs): number {
  const oldfd = argInt(a[0]);
  const newfd = argInt(a[1]);
  const flags = argInt(a[2]);
  if ((flags & ~O_CLOEXEC) !== 0) return -Errno.EINVAL;
  if (oldfd === newfd) return -Errno.EINVAL;
  return ctx.files.dup2(oldfd, newfd, (flags & O_CLOEXEC) !== 0);
}

/**
 * Implements Linux syscall fcntl(2).
 * Difference from Linux: only F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL and F_SETFL;
 * every other command (locks, leases, pipe sizes, seals, owners) answers EINVAL.
 */
function sysFcntl(ctx: SyscallContext, a: SyscallArgs): number {
  const fd = argInt(a[0]);
  const cmd = argInt(a[1]);
  const f = ctx.files.getFile(fd);
  if (typeof f === 'number') return f;
  const isPath = (f.flags & O_PATH) !== 0;
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = argInt(a[2]);
      if (min < 0) return -Errno.EINVAL;
      return ctx.files.dup(fd, min, cmd === F_DUPFD_CLOEXEC);
    }
    case F_GETFD: {
      const c = ctx.files.getCloexec(fd);
      if (typeof c === 'number') return c;
      return c ? FD_CLOEXEC : 0;
    }
    case F_SETFD:
      return ctx.files.setCloexec(fd, (argInt(a[2]) & FD_CLOEXEC) !== 0);
    case F_GETFL:
      return f.flags;
    case F_SETFL:
      if (isPath) return -Errno.EBADF;
      f.setStatusFlags(argInt(a[2]));
      return 0;
    default:
      return -Errno.EINVAL;
  }
}

/**
 * Implements Linux syscall ioctl(2).
 * Answers FIOCLEX, FIONCLEX, FIONBIO and FIONREAD itself; the rest goes to the file, which
 * answers ENOTTY unless it is a device that knows the request. Difference from Linux: no
 * terminal ioctls yet (TCGETS, TIOCGWINSZ answer ENOTTY even on a host terminal).
 */
function sysIoctl(ctx: SyscallContext, a: SyscallArgs): number {
  const fd = argInt(a[0]);
  const cmd = Number(BigInt.asUintN(32, a[1]));
  const f = ctx.files.getFile(fd);
  if (typeof f === 'number') return f;
  if ((f.flags & O_PATH) !== 0) return -Errno.EBADF;
  switch (cmd) {
    case FIOCLEX:
      return ctx.files.setCloexec(fd, true);
    case FIONCLEX:
      return ctx.files.setCloexec(fd, false);
    case FIONBIO: {
      const r = copyInInt(ctx, a[2]);
      if ('err' in r) return r.err;
      f.setNonblocking(r.v !== 0);
      return 0;
    }
    case FIONREAD: {
      const n = f.bytesReadable();
      if (n < 0) return n;
      return copyOutInt(ctx, a[2], n);
    }
    default:
      return f.ioctl(cmd, a[2]);
  }
}

export const fdSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [16, { name: 'ioctl', handler: sysIoctl, support: 'partial', note: 'no terminal ioctls yet' }],
  [32, { name: 'dup', handler: sysDup, support: 'full' }],
  [33, { name: 'dup2', handler: sysDup2, support: 'full' }],
  [
    72,
    {
      name: 'fcntl',
      handler: sysFcntl,
      support: 'partial',
      note: 'F_DUPFD*, F_GETFD/SETFD, F_GETFL/SETFL only',
    },
  ],
  [292, { name: 'dup3', handler: sysDup3, support: 'full' }],
];
