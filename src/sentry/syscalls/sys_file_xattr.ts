// The extended attribute system calls: getxattr, lgetxattr, fgetxattr, listxattr, llistxattr,
// flistxattr, setxattr, lsetxattr, fsetxattr, removexattr, lremovexattr, fremovexattr. No file
// system keeps extended attributes yet: the file is resolved (so ENOENT, EBADF, EFAULT come
// as in Linux), then reads find no attribute and writes are not supported. Never throws.
//
// Differences from Linux: every get answers ENODATA, every list an empty list, every set or
// remove EOPNOTSUPP (no security.*, system.posix_acl_*, user.* or trusted.* attributes).

import { Errno } from '../../abi/linux/errno.js';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW } from '../../abi/linux/file.js';
import { resolveAt } from '../vfs/resolve.js';
import { argInt, argPath } from './sys_file_common.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';

/** XATTR_NAME_MAX. */
const XATTR_NAME_MAX = 255;
/** The namespaces Linux knows; any other prefix is EOPNOTSUPP. */
const NAMESPACES = ['user.', 'trusted.', 'security.', 'system.'];

function checkPath(ctx: SyscallContext, addr: bigint, follow: boolean): number {
  const path = argPath(ctx, addr);
  if (typeof path === 'number') return path;
  const p = resolveAt(ctx, AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW);
  return typeof p === 'number' ? p : 0;
}

function checkFd(ctx: SyscallContext, fd: bigint): number {
  const f = ctx.files.getFile(argInt(fd));
  return typeof f === 'number' ? f : 0;
}

function checkName(ctx: SyscallContext, addr: bigint): number {
  const name = ctx.mem.copyInString(addr, XATTR_NAME_MAX);
  if (name === -Errno.ENAMETOOLONG) return -Errno.ERANGE;
  if (typeof name === 'number') return name;
  if (name.length === 0) return -Errno.ERANGE;
  return NAMESPACES.some((ns) => name.startsWith(ns)) ? 0 : -Errno.EOPNOTSUPP;
}

function get(target: number, ctx: SyscallContext, nameAddr: bigint): number {
  if (target < 0) return target;
  const n = checkName(ctx, nameAddr);
  return n < 0 ? n : -Errno.ENODATA;
}

function set(target: number, ctx: SyscallContext, nameAddr: bigint): number {
  if (target < 0) return target;
  const n = checkName(ctx, nameAddr);
  return n < 0 ? n : -Errno.EOPNOTSUPP;
}

/** Implements Linux syscall getxattr(2). Difference from Linux: no attributes (ENODATA). */
function sysGetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return get(checkPath(ctx, a[0], true), ctx, a[1]);
}

/** Implements Linux syscall lgetxattr(2). Difference from Linux: no attributes (ENODATA). */
function sysLgetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return get(checkPath(ctx, a[0], false), ctx, a[1]);
}

/** Implements Linux syscall fgetxattr(2). Difference from Linux: no attributes (ENODATA). */
function sysFgetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return get(checkFd(ctx, a[0]), ctx, a[1]);
}

/** Implements Linux syscall listxattr(2). Difference from Linux: always an empty list. */
function sysListxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return checkPath(ctx, a[0], true);
}

/** Implements Linux syscall llistxattr(2). Difference from Linux: always an empty list. */
function sysLlistxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return checkPath(ctx, a[0], false);
}

/** Implements Linux syscall flistxattr(2). Difference from Linux: always an empty list. */
function sysFlistxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return checkFd(ctx, a[0]);
}

/** Implements Linux syscall setxattr(2). Difference from Linux: EOPNOTSUPP. */
function sysSetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return set(checkPath(ctx, a[0], true), ctx, a[1]);
}

/** Implements Linux syscall lsetxattr(2). Difference from Linux: EOPNOTSUPP. */
function sysLsetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return set(checkPath(ctx, a[0], false), ctx, a[1]);
}

/** Implements Linux syscall fsetxattr(2). Difference from Linux: EOPNOTSUPP. */
function sysFsetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return set(checkFd(ctx, a[0]), ctx, a[1]);
}

/** Implements Linux syscall removexattr(2). Difference from Linux: EOPNOTSUPP. */
function sysRemovexattr(ctx: SyscallContext, a: SyscallArgs): number {
  return set(checkPath(ctx, a[0], true), ctx, a[1]);
}

/** Implements Linux syscall lremovexattr(2). Difference from Linux: EOPNOTSUPP. */
function sysLremovexattr(ctx: SyscallContext, a: SyscallArgs): number {
  return set(checkPath(ctx, a[0], false), ctx, a[1]);
}

/** Implements Linux syscall fremovexattr(2). Difference from Linux: EOPNOTSUPP. */
function sysFremovexattr(ctx: SyscallContext, a: SyscallArgs): number {
  return set(checkFd(ctx, a[0]), ctx, a[1]);
}

const NONE = 'no file system keeps extended attributes yet';

export const xattrSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [188, { name: 'setxattr', handler: sysSetxattr, support: 'partial', note: NONE }],
  [189, { name: 'lsetxattr', handler: sysLsetxattr, support: 'partial', note: NONE }],
  [190, { name: 'fsetxattr', handler: sysFsetxattr, support: 'partial', note: NONE }],
  [191, { name: 'getxattr', handler: sysGetxattr, support: 'partial', note: NONE }],
  [192, { name: 'lgetxattr', handler: sysLgetxattr, support: 'partial', note: NONE }],
  [193, { name: 'fgetxattr', handler: sysFgetxattr, support: 'partial', note: NONE }],
  [194, { name: 'listxattr', handler: sysListxattr, support: 'partial', note: NONE }],
  [195, { name: 'llistxattr', handler: sysLlistxattr, support: 'partial', note: NONE }],
  [196, { name: 'flistxattr', handler: sysFlistxattr, support: 'partial', note: NONE }],
  [197, { name: 'removexattr', handler: sysRemovexattr, support: 'partial', note: NONE }],
  [198, { name: 'lremovexattr', handler: sysLremovexattr, support: 'partial', note: NONE }],
  [199, { name: 'fremovexattr', handler: sysFremovexattr, support: 'partial', note: NONE }],
];
