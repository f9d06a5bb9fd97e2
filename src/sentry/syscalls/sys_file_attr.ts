// The file system calls that change attributes or flush: chmod, fchmod, fchmodat, chown,
// fchown, lchown, fchownat, truncate, ftruncate, fallocate, utimensat, fsync, fdatasync, sync,
// syncfs, fadvise64. They resolve the target (a path or an open file) and call the vfs's attribute
// operations (vfs/attr_ops.ts). Never throws.

import { syncFile } from '../vfs/file_mapping.js';
import { Errno } from '../../abi/linux/errno.js';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  O_PATH,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
} from '../../abi/linux/file.js';
import {
  setMode,
  setOwner,
  setSize,
  setTimes,
  type AttrTarget,
  type TimeSpec,
} from '../vfs/attr_ops.js';
import type { FileDescription } from '../vfs/file_description.js';
import { resolveAt } from '../vfs/resolve.js';
import { argInt, argOffset, argPath, argUint } from './sys_file_common.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';

const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

function fileTarget(f: FileDescription): AttrTarget {
  return { inode: f.inode, readOnly: f.path?.mount.readOnly ?? false };
}

/** The target of (dirfd, path, AT_* flags); AT_EMPTY_PATH with "" (or a NULL path) is the fd. */
function targetAt(
  ctx: SyscallContext,
  dirfd: number,
  pathAddr: bigint,
  flags: number,
): AttrTarget | number {
  let path: string | number = '';
  if (pathAddr !== 0n || (flags & AT_EMPTY_PATH) === 0) path = argPath(ctx, pathAddr);
  if (typeof path === 'number') return path;
  if (path.length === 0 && (flags & AT_EMPTY_PATH) !== 0 && dirfd !== AT_FDCWD) {
    const f = ctx.files.getFile(dirfd);
    return typeof f === 'number' ? f : fileTarget(f);
  }
  const p = resolveAt(ctx, dirfd, path, flags);
  if (typeof p === 'number') return p;
  return { inode: p.dentry.inode, readOnly: p.mount.readOnly };
}

/** An open file that is not O_PATH, for the f*() calls. */
function openFile(ctx: SyscallContext, fd: bigint): FileDescription | number {
  const f = ctx.files.getFile(argInt(fd));
  if (typeof f === 'number') return f;
  return (f.flags & O_PATH) !== 0 ? -Errno.EBADF : f;
}

/** Implements Linux syscall chmod(2). */
function sysChmod(ctx: SyscallContext, a: SyscallArgs): number {
  const t = targetAt(ctx, AT_FDCWD, a[0], 0);
  return typeof t === 'number' ? t : setMode(ctx.creds, t, argUint(a[1]));
}

/** Implements Linux syscall fchmod(2). */
function sysFchmod(ctx: SyscallContext, a: SyscallArgs): number {
  const f = openFile(ctx, a[0]);
  return typeof f === 'number' ? f : setMode(ctx.creds, fileTarget(f), argUint(a[1]));
}

/** Implements Linux syscall fchmodat(2) (which has no flags argument). */
function sysFchmodat(ctx: SyscallContext, a: SyscallArgs): number {
  const t = targetAt(ctx, argInt(a[0]), a[1], 0);
  return typeof t === 'number' ? t : setMode(ctx.creds, t, argUint(a[2]));
}

/** Implements Linux syscall chown(2). */
function sysChown(ctx: SyscallContext, a: SyscallArgs): number {
  const t = targetAt(ctx, AT_FDCWD, a[0], 0);
  return typeof t === 'number' ? t : setOwner(ctx.creds, t, argUint(a[1]), argUint(a[2]));
}

/** Implements Linux syscall lchown(2). */
function sysLchown(ctx: SyscallContext, a: SyscallArgs): number {
  const t = targetAt(ctx, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW);
  return typeof t === 'number' ? t : setOwner(ctx.creds, t, argUint(a[1]), argUint(a[2]));
}

/** Implements Linux syscall fchown(2). */
function sysFchown(ctx: SyscallContext, a: SyscallArgs): number {
  const f = openFile(ctx, a[0]);
  return typeof f === 'number'
    ? f
    : setOwner(ctx.creds, fileTarget(f), argUint(a[1]), argUint(a[2]));
}

/** Implements Linux syscall fchownat(2). */
function sysFchownat(ctx: SyscallContext, a: SyscallArgs): number {
  const flags = argInt(a[4]);
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return -Errno.EINVAL;
  const t = targetAt(ctx, argInt(a[0]), a[1], flags);
  return typeof t === 'number' ? t : setOwner(ctx.creds, t, argUint(a[2]), argUint(a[3]));
}

/** Implements Linux syscall truncate(2). */
function sysTruncate(ctx: SyscallContext, a: SyscallArgs): number {
  const len = argOffset(a[1]);
  if (len < 0) return -Errno.EINVAL;
  const t = targetAt(ctx, AT_FDCWD, a[0], 0);
  return typeof t === 'number' ? t : setSize(ctx.creds, t, len, true);
}

/** Implements Linux syscall ftruncate(2). */
function sysFtruncate(ctx: SyscallContext, a: SyscallArgs): number {
  const f = openFile(ctx, a[0]);
  if (typeof f === 'number') return f;
  const len = argOffset(a[1]);
  if (len < 0 || !f.writable) return -Errno.EINVAL;
  return setSize(ctx.creds, fileTarget(f), len, false);
}

function timeSpecs(ctx: SyscallContext, addr: bigint): [TimeSpec, TimeSpec] | number {
  if (addr === 0n) return ['now', 'now'];
  const raw = ctx.mem.copyIn(addr, 32);
  if (typeof raw === 'number') return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, 32);
  const one = (off: number): TimeSpec | number => {
    const sec = v.getBigInt64(off, true);
    const nsec = v.getBigInt64(off + 8, true);
    if (nsec === BigInt(UTIME_NOW)) return 'now';
    if (nsec === BigInt(UTIME_OMIT)) return 'omit';
    if (nsec < 0n || nsec >= 1_000_000_000n) return -Errno.EINVAL;
    return [Number(sec), Number(nsec)];
  };
  const at = one(0);
  const mt = one(16);
  if (typeof at === 'number') return at;
  if (typeof mt === 'number') return mt;
  return [at, mt];
}

/**
 * Implements Linux syscall utimensat(2). A NULL path names the file open at dirfd, as in Linux.
 */
function sysUtimensat(ctx: SyscallContext, a: SyscallArgs): number {
  const dirfd = argInt(a[0]);
  const flags = argInt(a[3]);
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return -Errno.EINVAL;
  const times = timeSpecs(ctx, a[2]);
  if (typeof times === 'number') return times;
  let t: AttrTarget | number;
  if (a[1] === 0n) {
    if (dirfd === AT_FDCWD) return -Errno.EFAULT;
    const f = ctx.files.getFile(dirfd);
    t = typeof f === 'number' ? f : fileTarget(f);
  } else {
    t = targetAt(ctx, dirfd, a[1], flags);
  }
  if (typeof t === 'number') return t;
  return setTimes(ctx.creds, t, times[0], times[1]);
}

/** Implements Linux syscall fsync(2). */
function sysFsync(ctx: SyscallContext, a: SyscallArgs): number {
  const f = openFile(ctx, a[0]);
  if (typeof f === 'number') return f;
  const w = syncFile(f);
  if (w < 0) return w;
  return f.impl?.sync?.() ?? 0;
}

/** Implements Linux syscall fdatasync(2) (as fsync). */
function sysFdatasync(ctx: SyscallContext, a: SyscallArgs): number {
  return sysFsync(ctx, a);
}

/** Implements Linux syscall sync(2). Difference from Linux: nothing is flushed to the Gofer. */
function sysSync(): number {
  return 0;
}

/** Implements Linux syscall syncfs(2). Difference from Linux: nothing is flushed to the Gofer. */
function sysSyncfs(ctx: SyscallContext, a: SyscallArgs): number {
  const f = openFile(ctx, a[0]);
  return typeof f === 'number' ? f : 0;
}

/** Implements Linux syscall fadvise64(2): advice is accepted and ignored, as Linux may. */
function sysFadvise64(ctx: SyscallContext, a: SyscallArgs): number {
  const f = openFile(ctx, a[0]);
  if (typeof f === 'number') return f;
  const advice = argInt(a[3]);
  if (advice < 0 || advice > 5 || BigInt.asIntN(64, a[2]) < 0n) return -Errno.EINVAL;
  if (f.impl !== null && !f.impl.seekable) return -Errno.ESPIPE;
  return 0;
}

const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;

/**
 * Implements Linux syscall fallocate(2).
 * Difference from Linux: mode 0 (allocate, growing the size), FALLOC_FL_KEEP_SIZE (a no-op:
 * files have no preallocated blocks) and hole punching where the file system can (tmpfs);
 * zeroing, collapsing and inserting answer EOPNOTSUPP (glibc's posix_fallocate then writes
 * zeros itself).
 */
function sysFallocate(ctx: SyscallContext, a: SyscallArgs): number {
  const f = openFile(ctx, a[0]);
  if (typeof f === 'number') return f;
  const mode = argInt(a[1]);
  const off = argOffset(a[2]);
  const len = argOffset(a[3]);
  if (off < 0 || len <= 0) return -Errno.EINVAL;
  if (!f.writable) return -Errno.EBADF;
  const type = f.inode.type & S_IFMT;
  if (type === S_IFDIR) return -Errno.EISDIR;
  if (f.impl !== null && !f.impl.seekable) return -Errno.ESPIPE;
  if (type !== S_IFREG) return -Errno.ENODEV;
  if (mode === (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
    if (f.path?.mount.readOnly === true) return -Errno.EROFS;
    return f.inode.punchHole?.(off, len) ?? -Errno.EOPNOTSUPP;
  }
  if (mode !== 0 && mode !== FALLOC_FL_KEEP_SIZE) return -Errno.EOPNOTSUPP;
  if (off + len > Number.MAX_SAFE_INTEGER) return -Errno.EFBIG;
  if (mode === FALLOC_FL_KEEP_SIZE) return 0;
  const st = f.stat();
  if (typeof st === 'number') return st;
  if (st.size >= off + len) return 0;
  const r = setSize(ctx.creds, fileTarget(f), off + len, false);
  return r === -Errno.EPERM ? -Errno.EOPNOTSUPP : r;
}

export const attrSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [74, { name: 'fsync', handler: sysFsync, support: 'full' }],
  [75, { name: 'fdatasync', handler: sysFdatasync, support: 'full' }],
  [76, { name: 'truncate', handler: sysTruncate, support: 'full' }],
  [77, { name: 'ftruncate', handler: sysFtruncate, support: 'full' }],
  [90, { name: 'chmod', handler: sysChmod, support: 'full' }],
  [91, { name: 'fchmod', handler: sysFchmod, support: 'full' }],
  [92, { name: 'chown', handler: sysChown, support: 'full' }],
  [93, { name: 'fchown', handler: sysFchown, support: 'full' }],
  [94, { name: 'lchown', handler: sysLchown, support: 'full' }],
  [162, { name: 'sync', handler: sysSync, support: 'partial', note: 'no flush to the Gofer' }],
  [221, { name: 'fadvise64', handler: sysFadvise64, support: 'full' }],
  [260, { name: 'fchownat', handler: sysFchownat, support: 'full' }],
  [268, { name: 'fchmodat', handler: sysFchmodat, support: 'full' }],
  [280, { name: 'utimensat', handler: sysUtimensat, support: 'full' }],
  [
    285,
    {
      name: 'fallocate',
      handler: sysFallocate,
      support: 'partial',
      note: 'modes 0 and KEEP_SIZE only',
    },
  ],
  [306, { name: 'syncfs', handler: sysSyncfs, support: 'partial', note: 'no flush to the Gofer' }],
];
