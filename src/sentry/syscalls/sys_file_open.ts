// The file system calls that open and close descriptors: open, openat, openat2, close,
// close_range.
// They resolve through the vfs (vfs/open.ts) and install into the task's fd table. Never throws.

import { Errno } from '../../abi/linux/errno.js';
import {
  AT_FDCWD,
  CLOSE_RANGE_CLOEXEC,
  CLOSE_RANGE_UNSHARE,
  O_ACCMODE,
  O_APPEND,
  O_ASYNC,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECT,
  O_DIRECTORY,
  O_DSYNC,
  O_EXCL,
  O_LARGEFILE,
  O_NOATIME,
  O_NOCTTY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_SYNC,
  O_TMPFILE,
  O_TRUNC,
  S_IFDIR,
  S_IFMT,
} from '../../abi/linux/file.js';
import type { VfsPath } from '../vfs/mount.js';
import { openAt } from '../vfs/open.js';
import type { ResolveOpts } from '../vfs/resolve.js';
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

const RESOLVE_NO_XDEV = 0x01;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_BENEATH = 0x08;
const RESOLVE_IN_ROOT = 0x10;
const RESOLVE_CACHED = 0x20;
const RESOLVE_ALL =
  RESOLVE_NO_XDEV |
  RESOLVE_NO_MAGICLINKS |
  RESOLVE_NO_SYMLINKS |
  RESOLVE_BENEATH |
  RESOLVE_IN_ROOT |
  RESOLVE_CACHED;
/** Linux's VALID_OPEN_FLAGS. */
const VALID_OPEN_FLAGS =
  O_ACCMODE |
  O_CREAT |
  O_EXCL |
  O_NOCTTY |
  O_TRUNC |
  O_APPEND |
  O_NONBLOCK |
  O_DSYNC |
  O_ASYNC |
  O_DIRECT |
  O_LARGEFILE |
  O_DIRECTORY |
  O_NOFOLLOW |
  O_NOATIME |
  O_CLOEXEC |
  O_SYNC |
  O_PATH |
  O_TMPFILE;
const O_PATH_FLAGS = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;
/** sizeof(struct open_how) in its first version: u64 flags, mode, resolve. */
const OPEN_HOW_SIZE_VER0 = 24;

/**
 * Implements Linux syscall openat2(2).
 * Differences from Linux: RESOLVE_NO_MAGICLINKS has nothing to refuse (no magic links yet),
 * RESOLVE_CACHED never answers EAGAIN; O_TMPFILE answers EOPNOTSUPP.
 */
function sysOpenat2(ctx: SyscallContext, a: SyscallArgs): number {
  const dirfd = argInt(a[0]);
  const size = a[3];
  if (size < BigInt(OPEN_HOW_SIZE_VER0)) return -Errno.EINVAL;
  if (size > 4096n) return -Errno.E2BIG;
  const how = ctx.mem.copyIn(a[2], Number(size));
  if (typeof how === 'number') return how;
  if (how.subarray(OPEN_HOW_SIZE_VER0).some((b) => b !== 0)) return -Errno.E2BIG;
  const v = new DataView(how.buffer, how.byteOffset, OPEN_HOW_SIZE_VER0);
  const flags64 = v.getBigUint64(0, true);
  const mode64 = v.getBigUint64(8, true);
  const resolve64 = v.getBigUint64(16, true);
  if (flags64 > 0xffffffffn || (Number(flags64) & ~VALID_OPEN_FLAGS) !== 0) return -Errno.EINVAL;
  const flags = Number(flags64);
  if (resolve64 > 0xffffffffn || (Number(resolve64) & ~RESOLVE_ALL) !== 0) return -Errno.EINVAL;
  const resolve = Number(resolve64);
  if ((resolve & RESOLVE_BENEATH) !== 0 && (resolve & RESOLVE_IN_ROOT) !== 0) return -Errno.EINVAL;
  const creating = (flags & O_CREAT) !== 0 || (flags & O_TMPFILE) === O_TMPFILE;
  if (mode64 > 0o7777n || (!creating && mode64 !== 0n)) return -Errno.EINVAL;
  if ((flags & O_PATH) !== 0 && (flags & ~O_PATH_FLAGS) !== 0) return -Errno.EINVAL;
  const path = argPath(ctx, a[1]);
  if (typeof path === 'number') return path;
  const opts: ResolveOpts = {
    noXdev: (resolve & RESOLVE_NO_XDEV) !== 0,
    noSymlinks: (resolve & RESOLVE_NO_SYMLINKS) !== 0,
    beneath: (resolve & RESOLVE_BENEATH) !== 0,
  };
  if ((resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) !== 0) {
    let root: VfsPath;
    if (dirfd === AT_FDCWD) root = ctx.fs.cwd;
    else {
      const f = ctx.files.getFile(dirfd);
      if (typeof f === 'number') return f;
      if (f.path === null || (f.inode.type & S_IFMT) !== S_IFDIR) return -Errno.ENOTDIR;
      root = f.path;
    }
    opts.root = root;
  }
  const f = openAt(ctx, dirfd, path, flags, Number(mode64), opts);
  if (typeof f === 'number') return f;
  const fd = ctx.files.install(f, (flags & O_CLOEXEC) !== 0);
  if (fd < 0) f.decRef();
  return fd;
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
    437,
    {
      name: 'openat2',
      handler: sysOpenat2,
      support: 'partial',
      note: 'RESOLVE_CACHED never EAGAIN',
    },
  ],
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
