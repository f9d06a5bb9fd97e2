// The extended attribute system calls: getxattr, lgetxattr, fgetxattr, listxattr, llistxattr,
// flistxattr, setxattr, lsetxattr, fsetxattr, removexattr, lremovexattr, fremovexattr. The
// arguments are copied in first (flags, name, value: EINVAL, EFAULT, ERANGE, E2BIG), then the
// file is resolved, then Linux's xattr_permission() rules apply (fs/xattr.c): user.* only on
// regular files and directories (else ENODATA for reads, EPERM for writes), the sticky-directory
// owner rule, trusted.* for root only, read or write permission on the file; then the file
// system's Inode.getxattr/listxattr/setxattr/removexattr (tmpfs in memory, the gofer file
// system through the Gofer). A file system without them answers EOPNOTSUPP (an empty list).
// Never throws.
//
// Differences from Linux: "root" (euid 0) stands for CAP_SYS_ADMIN in the trusted.* checks;
// system.* (POSIX ACLs) is not kept by tmpfs; no LSM adds security.* names to a list.

import { CAP_SYS_ADMIN } from '../../abi/linux/capability.js';
import { capable } from '../kernel/credentials.js';
import { Errno } from '../../abi/linux/errno.js';
import {
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  O_PATH,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
} from '../../abi/linux/file.js';
import type { Inode } from '../vfs/inode.js';
import { MAY_READ, MAY_WRITE, checkPermission } from '../vfs/permissions.js';
import { resolveAt } from '../vfs/resolve.js';
import { argInt, argPath } from './sys_file_common.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';

/** XATTR_NAME_MAX, XATTR_SIZE_MAX, XATTR_LIST_MAX. */
const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;
const XATTR_LIST_MAX = 65536;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;
const S_ISVTX = 0o1000;

/** What a call acts on: the inode and whether its mount is read-only. */
interface Target {
  inode: Inode;
  readOnly: boolean;
}

/** How the file is named: a path (following the last symlink or not), or an fd. */
type Where = { path: bigint; follow: boolean } | { fd: bigint };

function target(ctx: SyscallContext, w: Where): Target | number {
  if ('fd' in w) {
    const f = ctx.files.getFile(argInt(w.fd));
    if (typeof f === 'number') return f;
    if ((f.flags & O_PATH) !== 0) return -Errno.EBADF;
    return { inode: f.inode, readOnly: f.path?.mount.readOnly ?? false };
  }
  const path = argPath(ctx, w.path);
  if (typeof path === 'number') return path;
  const p = resolveAt(ctx, AT_FDCWD, path, w.follow ? 0 : AT_SYMLINK_NOFOLLOW);
  if (typeof p === 'number') return p;
  return { inode: p.dentry.inode, readOnly: p.mount.readOnly };
}

/** import_xattr_name(): EFAULT, or ERANGE for "" and names past XATTR_NAME_MAX. */
function copyName(ctx: SyscallContext, addr: bigint): string | number {
  const name = ctx.mem.copyInString(addr, XATTR_NAME_MAX);
  if (name === -Errno.ENAMETOOLONG) return -Errno.ERANGE;
  if (typeof name === 'number') return name;
  return name.length === 0 ? -Errno.ERANGE : name;
}

/** xattr_permission() of fs/xattr.c, after the mount's read-only check for writes. */
function permission(ctx: SyscallContext, t: Target, name: string, mask: number): number {
  if (name.startsWith('security.') || name.startsWith('system.')) return 0;
  const root = capable(ctx.creds, CAP_SYS_ADMIN);
  if (name.startsWith('trusted.')) {
    if (root) return 0;
    return mask === MAY_WRITE ? -Errno.EPERM : -Errno.ENODATA;
  }
  const st = t.inode.stat();
  if (typeof st === 'number') return st;
  if (name.startsWith('user.')) {
    const fmt = st.mode & S_IFMT;
    if (fmt !== S_IFREG && fmt !== S_IFDIR) {
      return mask === MAY_WRITE ? -Errno.EPERM : -Errno.ENODATA;
    }
    const sticky = fmt === S_IFDIR && (st.mode & S_ISVTX) !== 0;
    if (sticky && mask === MAY_WRITE && !root && ctx.creds.euid !== st.uid) return -Errno.EPERM;
  }
  return checkPermission(ctx.creds, st, mask);
}

/** xattr_resolve_name(): a known namespace with something after its prefix. */
function checkNamespace(name: string): number {
  for (const ns of ['user.', 'trusted.', 'security.', 'system.']) {
    if (name.startsWith(ns)) return name.length === ns.length ? -Errno.EINVAL : 0;
  }
  return -Errno.EOPNOTSUPP;
}

/** The bytes of a get or list for a buffer of `size` at `addr` (size 0: only the length). */
function copyResult(
  ctx: SyscallContext,
  data: Uint8Array,
  addr: bigint,
  size: number,
  max: number,
): number {
  if (size === 0) return data.length;
  if (data.length > size) return size >= max ? -Errno.E2BIG : -Errno.ERANGE;
  if (data.length === 0) return 0;
  const r = ctx.mem.copyOut(addr, data);
  return r < 0 ? r : data.length;
}

/** A size_t size argument, capped as Linux caps it (sizes past `max` read at most `max`). */
function argSize(a: bigint, max: number): number {
  return a > BigInt(max) ? max : Number(a);
}

/**
 * The file an attribute call acts on, checked in Linux's order: resolution, a read-only
 * mount (for changes), xattr_permission(), then the name's namespace.
 */
function checkedTarget(
  ctx: SyscallContext,
  w: Where,
  name: string,
  access: number,
): ReturnType<typeof target> {
  const t = target(ctx, w);
  if (typeof t === 'number') return t;
  if (access === MAY_WRITE && t.readOnly) return -Errno.EROFS;
  const perm = permission(ctx, t, name, access);
  if (perm < 0) return perm;
  const ns = checkNamespace(name);
  return ns < 0 ? ns : t;
}

function getxattr(ctx: SyscallContext, w: Where, a: SyscallArgs): number {
  const name = copyName(ctx, a[1]);
  if (typeof name === 'number') return name;
  const t = checkedTarget(ctx, w, name, MAY_READ);
  if (typeof t === 'number') return t;
  if (t.inode.getxattr === undefined) return -Errno.EOPNOTSUPP;
  const v = t.inode.getxattr(name);
  if (typeof v === 'number') return v;
  return copyResult(ctx, v, a[2], argSize(a[3], XATTR_SIZE_MAX), XATTR_SIZE_MAX);
}

function listxattr(ctx: SyscallContext, w: Where, a: SyscallArgs): number {
  const t = target(ctx, w);
  if (typeof t === 'number') return t;
  const names = t.inode.listxattr?.() ?? [];
  if (typeof names === 'number') return names;
  const admin = capable(ctx.creds, CAP_SYS_ADMIN);
  const shown = names.filter((n) => admin || !n.startsWith('trusted.'));
  const packed = Buffer.from(shown.map((n) => `${n}\0`).join(''));
  return copyResult(ctx, packed, a[1], argSize(a[2], XATTR_LIST_MAX), XATTR_LIST_MAX);
}

function setxattr(ctx: SyscallContext, w: Where, a: SyscallArgs): number {
  // 1. setxattr_copy(): flags, name, value.
  const flags = argInt(a[4]);
  if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) return -Errno.EINVAL;
  const name = copyName(ctx, a[1]);
  if (typeof name === 'number') return name;
  if (a[3] > BigInt(XATTR_SIZE_MAX)) return -Errno.E2BIG;
  const size = Number(a[3]);
  const value = size === 0 ? new Uint8Array(0) : ctx.mem.copyIn(a[2], size);
  if (typeof value === 'number') return value;
  // 2. The file, its mount, the permission, the namespace.
  const t = checkedTarget(ctx, w, name, MAY_WRITE);
  if (typeof t === 'number') return t;
  if (t.inode.setxattr === undefined) return -Errno.EOPNOTSUPP;
  return t.inode.setxattr(name, value, flags);
}

function removexattr(ctx: SyscallContext, w: Where, a: SyscallArgs): number {
  const name = copyName(ctx, a[1]);
  if (typeof name === 'number') return name;
  const t = checkedTarget(ctx, w, name, MAY_WRITE);
  if (typeof t === 'number') return t;
  if (t.inode.removexattr === undefined) return -Errno.EOPNOTSUPP;
  return t.inode.removexattr(name);
}

const byPath = (a: SyscallArgs): Where => ({ path: a[0], follow: true });
const byLink = (a: SyscallArgs): Where => ({ path: a[0], follow: false });
const byFd = (a: SyscallArgs): Where => ({ fd: a[0] });

/** Implements Linux syscall getxattr(2). */
function sysGetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return getxattr(ctx, byPath(a), a);
}

/** Implements Linux syscall lgetxattr(2). */
function sysLgetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return getxattr(ctx, byLink(a), a);
}

/** Implements Linux syscall fgetxattr(2). */
function sysFgetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return getxattr(ctx, byFd(a), a);
}

/** Implements Linux syscall listxattr(2). */
function sysListxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return listxattr(ctx, byPath(a), a);
}

/** Implements Linux syscall llistxattr(2). */
function sysLlistxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return listxattr(ctx, byLink(a), a);
}

/** Implements Linux syscall flistxattr(2). */
function sysFlistxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return listxattr(ctx, byFd(a), a);
}

/**
 * Implements Linux syscall setxattr(2). Difference from Linux: on a gofer mount an empty
 * value with XATTR_REPLACE removes the attribute (9P2000.L spells removexattr that way).
 */
function sysSetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return setxattr(ctx, byPath(a), a);
}

/** Implements Linux syscall lsetxattr(2). Same difference as setxattr. */
function sysLsetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return setxattr(ctx, byLink(a), a);
}

/** Implements Linux syscall fsetxattr(2). Same difference as setxattr. */
function sysFsetxattr(ctx: SyscallContext, a: SyscallArgs): number {
  return setxattr(ctx, byFd(a), a);
}

/** Implements Linux syscall removexattr(2). */
function sysRemovexattr(ctx: SyscallContext, a: SyscallArgs): number {
  return removexattr(ctx, byPath(a), a);
}

/** Implements Linux syscall lremovexattr(2). */
function sysLremovexattr(ctx: SyscallContext, a: SyscallArgs): number {
  return removexattr(ctx, byLink(a), a);
}

/** Implements Linux syscall fremovexattr(2). */
function sysFremovexattr(ctx: SyscallContext, a: SyscallArgs): number {
  return removexattr(ctx, byFd(a), a);
}

const KEPT =
  'tmpfs (user., trusted., security.) and gofer mounts (what the host file system keeps); other file systems EOPNOTSUPP';
const SET = `${KEPT}; on gofer mounts an empty value with XATTR_REPLACE removes (9P2000.L)`;
const TRUSTED = `${KEPT}; euid 0 stands for CAP_SYS_ADMIN for trusted.*`;

export const xattrSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [188, { name: 'setxattr', handler: sysSetxattr, support: 'partial', note: SET }],
  [189, { name: 'lsetxattr', handler: sysLsetxattr, support: 'partial', note: SET }],
  [190, { name: 'fsetxattr', handler: sysFsetxattr, support: 'partial', note: SET }],
  [191, { name: 'getxattr', handler: sysGetxattr, support: 'full', note: TRUSTED }],
  [192, { name: 'lgetxattr', handler: sysLgetxattr, support: 'full', note: TRUSTED }],
  [193, { name: 'fgetxattr', handler: sysFgetxattr, support: 'full', note: TRUSTED }],
  [194, { name: 'listxattr', handler: sysListxattr, support: 'full', note: TRUSTED }],
  [195, { name: 'llistxattr', handler: sysLlistxattr, support: 'full', note: TRUSTED }],
  [196, { name: 'flistxattr', handler: sysFlistxattr, support: 'full', note: TRUSTED }],
  [197, { name: 'removexattr', handler: sysRemovexattr, support: 'full', note: TRUSTED }],
  [198, { name: 'lremovexattr', handler: sysLremovexattr, support: 'full', note: TRUSTED }],
  [199, { name: 'fremovexattr', handler: sysFremovexattr, support: 'full', note: TRUSTED }],
];
