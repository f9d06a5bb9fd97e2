// The file system calls that describe files: stat, fstat, lstat, newfstatat, statx, statfs,
// fstatfs, readlink, readlinkat, access, faccessat, faccessat2. They resolve through the vfs,
// encode Linux's structs (abi/linux/file.ts) and copy them out. Never throws.

import { Errno } from '../../abi/linux/errno.js';
import {
  AT_EACCESS,
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_NO_AUTOMOUNT,
  AT_STATX_SYNC_TYPE,
  AT_SYMLINK_NOFOLLOW,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
  STATX__RESERVED,
  ST_RDONLY,
  W_OK,
  encodeStat,
  encodeStatFs,
  encodeStatx,
  type Stat,
  type StatFs,
} from '../../abi/linux/file.js';
import type { Mount, VfsPath } from '../vfs/mount.js';
import { checkPermission, realIdCreds } from '../vfs/permissions.js';
import { resolveAt, walkPath, startFor, isSymlink } from '../vfs/resolve.js';
import { argInt, argPath } from './sys_file_common.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';

interface Described {
  stat: Stat;
  mount: Mount | null;
}

/** The attributes of (dirfd, path) under AT_* flags; AT_EMPTY_PATH on an fd uses the open file. */
function statAt(
  ctx: SyscallContext,
  dirfd: number,
  pathAddr: bigint,
  flags: number,
): Described | number {
  let path: string | number = '';
  if (pathAddr !== 0n || (flags & AT_EMPTY_PATH) === 0) path = argPath(ctx, pathAddr);
  if (typeof path === 'number') return path;
  if (path.length === 0 && (flags & AT_EMPTY_PATH) !== 0 && dirfd !== AT_FDCWD) {
    const f = ctx.files.getFile(dirfd);
    if (typeof f === 'number') return f;
    const st = f.stat();
    return typeof st === 'number' ? st : { stat: st, mount: f.path?.mount ?? null };
  }
  const p = resolveAt(ctx, dirfd, path, flags);
  if (typeof p === 'number') return p;
  const st = p.dentry.inode.stat();
  return typeof st === 'number' ? st : { stat: st, mount: p.mount };
}

function copyStat(ctx: SyscallContext, d: Described | number, addr: bigint): number {
  if (typeof d === 'number') return d;
  const r = ctx.mem.copyOut(addr, encodeStat(d.stat));
  return r < 0 ? r : 0;
}

/** Implements Linux syscall stat(2). */
function sysStat(ctx: SyscallContext, a: SyscallArgs): number {
  return copyStat(ctx, statAt(ctx, AT_FDCWD, a[0], 0), a[1]);
}

/** Implements Linux syscall lstat(2). */
function sysLstat(ctx: SyscallContext, a: SyscallArgs): number {
  return copyStat(ctx, statAt(ctx, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW), a[1]);
}

/** Implements Linux syscall fstat(2). */
function sysFstat(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  const st = f.stat();
  if (typeof st === 'number') return st;
  return copyStat(ctx, { stat: st, mount: null }, a[1]);
}

/** Implements Linux syscall newfstatat(2). */
function sysNewfstatat(ctx: SyscallContext, a: SyscallArgs): number {
  const flags = argInt(a[3]);
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) !== 0)
    return -Errno.EINVAL;
  return copyStat(ctx, statAt(ctx, argInt(a[0]), a[1], flags), a[2]);
}

/**
 * Implements Linux syscall statx(2).
 * Difference from Linux: answers the basic stats only (no birth time, no attributes), whatever
 * the mask asks.
 */
function sysStatx(ctx: SyscallContext, a: SyscallArgs): number {
  const flags = argInt(a[2]);
  const mask = Number(BigInt.asUintN(32, a[3]));
  const allowed = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE;
  if ((flags & ~allowed) !== 0 || (flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE)
    return -Errno.EINVAL;
  if ((mask & STATX__RESERVED) !== 0) return -Errno.EINVAL;
  const d = statAt(ctx, argInt(a[0]), a[1], flags);
  if (typeof d === 'number') return d;
  const r = ctx.mem.copyOut(a[4], encodeStatx(d.stat, d.mount?.id ?? 0));
  return r < 0 ? r : 0;
}

function statfsOf(fsStat: StatFs | number, mount: Mount | null): StatFs | number {
  if (typeof fsStat === 'number') return fsStat;
  if (mount?.readOnly === true) return { ...fsStat, flags: fsStat.flags | ST_RDONLY };
  return fsStat;
}

function copyStatFs(ctx: SyscallContext, s: StatFs | number, addr: bigint): number {
  if (typeof s === 'number') return s;
  const r = ctx.mem.copyOut(addr, encodeStatFs(s));
  return r < 0 ? r : 0;
}

/** Implements Linux syscall statfs(2). */
function sysStatfs(ctx: SyscallContext, a: SyscallArgs): number {
  const path = argPath(ctx, a[0]);
  if (typeof path === 'number') return path;
  const p = resolveAt(ctx, AT_FDCWD, path, 0);
  if (typeof p === 'number') return p;
  return copyStatFs(ctx, statfsOf(p.mount.fs.statfs(), p.mount), a[1]);
}

/** Implements Linux syscall fstatfs(2). */
function sysFstatfs(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  return copyStatFs(ctx, statfsOf(f.statfs(), f.path?.mount ?? null), a[1]);
}

function doReadlink(
  ctx: SyscallContext,
  dirfd: number,
  pathAddr: bigint,
  buf: bigint,
  sizeArg: bigint,
): number {
  const size = argInt(sizeArg);
  if (size <= 0) return -Errno.EINVAL;
  const path = argPath(ctx, pathAddr);
  if (typeof path === 'number') return path;
  let target: string | number;
  if (path.length === 0) {
    const f = dirfd === AT_FDCWD ? -Errno.ENOENT : ctx.files.getFile(dirfd);
    if (typeof f === 'number') return f;
    target = f.readlink();
    if (target === -Errno.EINVAL) return -Errno.ENOENT;
  } else {
    const p = resolveAt(ctx, dirfd, path, AT_SYMLINK_NOFOLLOW);
    if (typeof p === 'number') return p;
    const inode = p.dentry.inode;
    if (!isSymlink(inode) || inode.readlink === undefined) return -Errno.EINVAL;
    target = inode.readlink();
  }
  if (typeof target === 'number') return target;
  const bytes = new TextEncoder().encode(target);
  const n = Math.min(bytes.length, size);
  const r = ctx.mem.copyOut(buf, bytes.subarray(0, n));
  return r < 0 ? r : n;
}

/** Implements Linux syscall readlink(2). */
function sysReadlink(ctx: SyscallContext, a: SyscallArgs): number {
  return doReadlink(ctx, AT_FDCWD, a[0], a[1], a[2]);
}

/** Implements Linux syscall readlinkat(2). */
function sysReadlinkat(ctx: SyscallContext, a: SyscallArgs): number {
  return doReadlink(ctx, argInt(a[0]), a[1], a[2], a[3]);
}

function doAccess(
  ctx: SyscallContext,
  dirfd: number,
  pathAddr: bigint,
  mode: number,
  flags: number,
): number {
  if ((mode & ~7) !== 0) return -Errno.EINVAL;
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return -Errno.EINVAL;
  const path = argPath(ctx, pathAddr);
  if (typeof path === 'number') return path;
  const creds = (flags & AT_EACCESS) !== 0 ? ctx.creds : realIdCreds(ctx.creds);
  const actx = { fs: ctx.fs, files: ctx.files, creds };
  let p: VfsPath | number;
  if (path.length === 0) p = resolveAt(actx, dirfd, path, flags);
  else {
    const start = startFor(actx, dirfd, path);
    p =
      typeof start === 'number'
        ? start
        : walkPath(actx, start, path, (flags & AT_SYMLINK_NOFOLLOW) === 0);
  }
  if (typeof p === 'number') return p;
  const st = p.dentry.inode.stat();
  if (typeof st === 'number') return st;
  const type = st.mode & S_IFMT;
  if ((mode & W_OK) !== 0 && p.mount.readOnly && (type === S_IFREG || type === S_IFDIR))
    return -Errno.EROFS;
  return checkPermission(creds, st, mode);
}

/** Implements Linux syscall access(2). */
function sysAccess(ctx: SyscallContext, a: SyscallArgs): number {
  return doAccess(ctx, AT_FDCWD, a[0], argInt(a[1]), 0);
}

/** Implements Linux syscall faccessat(2) (which has no flags argument). */
function sysFaccessat(ctx: SyscallContext, a: SyscallArgs): number {
  return doAccess(ctx, argInt(a[0]), a[1], argInt(a[2]), 0);
}

/** Implements Linux syscall faccessat2(2). */
function sysFaccessat2(ctx: SyscallContext, a: SyscallArgs): number {
  return doAccess(ctx, argInt(a[0]), a[1], argInt(a[2]), argInt(a[3]));
}

export const statSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [4, { name: 'stat', handler: sysStat, support: 'full' }],
  [5, { name: 'fstat', handler: sysFstat, support: 'full' }],
  [6, { name: 'lstat', handler: sysLstat, support: 'full' }],
  [21, { name: 'access', handler: sysAccess, support: 'full' }],
  [89, { name: 'readlink', handler: sysReadlink, support: 'full' }],
  [137, { name: 'statfs', handler: sysStatfs, support: 'full' }],
  [138, { name: 'fstatfs', handler: sysFstatfs, support: 'full' }],
  [262, { name: 'newfstatat', handler: sysNewfstatat, support: 'full' }],
  [267, { name: 'readlinkat', handler: sysReadlinkat, support: 'full' }],
  [269, { name: 'faccessat', handler: sysFaccessat, support: 'full' }],
  [332, { name: 'statx', handler: sysStatx, support: 'partial', note: 'basic stats only' }],
  [439, { name: 'faccessat2', handler: sysFaccessat2, support: 'full' }],
];
