// The file system calls on descriptors themselves: dup, dup2, dup3, fcntl and ioctl. They
// change the fd table and the open file's status flags; device-specific ioctls go to the file.
// Never throws.

import { fileSeals } from './sys_memory.js';

const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
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
import type { FileDescription } from '../vfs/file_description.js';
import { flock } from '../vfs/flock.js';
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

const F_SETOWN = 8;
const F_GETOWN = 9;
const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_OFD_SETLKW = 38;
const F_RDLCK = 0;
const F_WRLCK = 1;
const F_UNLCK = 2;

/**
 * Record locks (F_GETLK, F_SETLK, F_SETLKW and the F_OFD_* forms): the struct flock is read
 * and checked as Linux checks it, then every lock is granted and F_GETLK finds no conflict.
 * Difference from Linux: locks are not kept, so the record locks of different processes and
 * the OFD locks of different descriptions do not exclude each other (within one process,
 * POSIX record locks never conflict, as on Linux).
 */
function recordLock(ctx: SyscallContext, f: FileDescription, cmd: number, addr: bigint): number {
  const raw = ctx.mem.copyIn(addr, 32);
  if (typeof raw === 'number') return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, 32);
  const type = v.getInt16(0, true);
  const whence = v.getInt16(2, true);
  const ofd = cmd === F_OFD_GETLK || cmd === F_OFD_SETLK || cmd === F_OFD_SETLKW;
  if (whence < 0 || whence > 2) return -Errno.EINVAL;
  if (ofd && v.getInt32(24, true) !== 0) return -Errno.EINVAL;
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    if (type !== F_RDLCK && type !== F_WRLCK) return -Errno.EINVAL;
    v.setInt16(0, F_UNLCK, true);
    const r = ctx.mem.copyOut(addr, raw);
    return r < 0 ? r : 0;
  }
  if (type === F_RDLCK) return f.readable ? 0 : -Errno.EBADF;
  if (type === F_WRLCK) return f.writable ? 0 : -Errno.EBADF;
  return type === F_UNLCK ? 0 : -Errno.EINVAL;
}

/**
 * Implements Linux syscall fcntl(2).
 * Differences from Linux: record locks are checked and granted but not kept (see recordLock);
 * F_GETOWN answers 0 and F_SETOWN is accepted without effect (no SIGIO); leases, notify,
 * signals, pipe sizes and seals answer EINVAL.
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
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      if (isPath) return -Errno.EBADF;
      return recordLock(ctx, f, cmd, a[2]);
    case F_ADD_SEALS:
      return fileSeals(f, argInt(a[2]));
    case F_GET_SEALS:
      return fileSeals(f, null);
    case F_GETOWN:
      return 0;
    case F_SETOWN:
      return isPath ? -Errno.EBADF : 0;
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

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

/**
 * Implements Linux syscall flock(2).
 * Difference from Linux: see vfs/flock.ts (a conflict without LOCK_NB answers EWOULDBLOCK
 * instead of waiting, until the kernel parks tasks).
 */
function sysFlock(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  if ((f.flags & O_PATH) !== 0) return -Errno.EBADF;
  const op = argInt(a[1]) & ~LOCK_NB;
  if (op === LOCK_SH) return flock(f, 'shared');
  if (op === LOCK_EX) return flock(f, 'exclusive');
  if (op === LOCK_UN) return flock(f, 'unlock');
  return -Errno.EINVAL;
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
      note: 'record locks not kept; no leases, notify, SIGIO, pipe sizes, seals',
    },
  ],
  [73, { name: 'flock', handler: sysFlock, support: 'partial', note: 'conflicts never wait' }],
  [292, { name: 'dup3', handler: sysDup3, support: 'full' }],
];
