// The directory file system calls: getcwd, chdir, fchdir, chroot, getdents, getdents64. They
// read and move the task's working directory and root (FsContext) and list directories through
// the open file. Never throws.

import { CAP_SYS_CHROOT } from '../../abi/linux/capability.js';
import { capable } from '../kernel/credentials.js';
import { Errno } from '../../abi/linux/errno.js';
import { AT_FDCWD, encodeDirent64, encodeOldDirent } from '../../abi/linux/file.js';
import type { DirentEncoder } from '../vfs/file_description.js';
import { pathString } from '../vfs/mount.js';
import { MAY_EXEC, checkPermission } from '../vfs/permissions.js';
import { isDir, resolveAt } from '../vfs/resolve.js';
import { IO_CHUNK, argInt, argPath } from './sys_file_common.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';
import type { VfsPath } from '../vfs/mount.js';

/**
 * Implements Linux syscall getcwd(2).
 * Difference from Linux: a working directory outside the task's root reads as "/" instead of
 * "(unreachable)/…".
 */
function sysGetcwd(ctx: SyscallContext, a: SyscallArgs): number {
  const size = Number(
    BigInt.asUintN(64, a[1]) > 0x7fffffffn ? 0x7fffffffn : BigInt.asUintN(64, a[1]),
  );
  const s = pathString(ctx.fs.cwd, ctx.fs.root) ?? '/';
  const bytes = new TextEncoder().encode(s + '\0');
  if (bytes.length > size) return -Errno.ERANGE;
  const r = ctx.mem.copyOut(a[0], bytes);
  return r < 0 ? r : bytes.length;
}

function setCwd(ctx: SyscallContext, p: VfsPath): number {
  if (!isDir(p.dentry.inode)) return -Errno.ENOTDIR;
  const st = p.dentry.inode.stat();
  if (typeof st === 'number') return st;
  const perm = checkPermission(ctx.creds, st, MAY_EXEC);
  if (perm < 0) return perm;
  ctx.fs.cwd = p;
  return 0;
}

/** Implements Linux syscall chdir(2). */
function sysChdir(ctx: SyscallContext, a: SyscallArgs): number {
  const path = argPath(ctx, a[0]);
  if (typeof path === 'number') return path;
  const p = resolveAt(ctx, AT_FDCWD, path, 0);
  if (typeof p === 'number') return p;
  return setCwd(ctx, p);
}

/** Implements Linux syscall fchdir(2). */
function sysFchdir(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  if (f.path === null) return -Errno.ENOTDIR;
  return setCwd(ctx, f.path);
}

/** Implements Linux syscall chroot(2): needs euid 0 (CAP_SYS_CHROOT); the cwd stays. */
function sysChroot(ctx: SyscallContext, a: SyscallArgs): number {
  const path = argPath(ctx, a[0]);
  if (typeof path === 'number') return path;
  const p = resolveAt(ctx, AT_FDCWD, path, 0);
  if (typeof p === 'number') return p;
  if (!isDir(p.dentry.inode)) return -Errno.ENOTDIR;
  const st = p.dentry.inode.stat();
  if (typeof st === 'number') return st;
  const perm = checkPermission(ctx.creds, st, MAY_EXEC);
  if (perm < 0) return perm;
  if (!capable(ctx.creds, CAP_SYS_CHROOT)) return -Errno.EPERM;
  ctx.fs.root = p;
  return 0;
}

function doGetdents(ctx: SyscallContext, a: SyscallArgs, encode: DirentEncoder): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  const count = Math.min(Number(BigInt.asUintN(32, a[2])), IO_CHUNK);
  const buf = new Uint8Array(count);
  const n = f.getdents(buf, encode);
  if (n <= 0) return n;
  const r = ctx.mem.copyOut(a[1], buf.subarray(0, n));
  return r < 0 ? r : n;
}

/** Implements Linux syscall getdents64(2). */
function sysGetdents64(ctx: SyscallContext, a: SyscallArgs): number {
  return doGetdents(ctx, a, encodeDirent64);
}

/** Implements Linux syscall getdents(2) (the old struct linux_dirent). */
function sysGetdents(ctx: SyscallContext, a: SyscallArgs): number {
  return doGetdents(ctx, a, encodeOldDirent);
}

export const dirSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [78, { name: 'getdents', handler: sysGetdents, support: 'full' }],
  [79, { name: 'getcwd', handler: sysGetcwd, support: 'full' }],
  [80, { name: 'chdir', handler: sysChdir, support: 'full' }],
  [81, { name: 'fchdir', handler: sysFchdir, support: 'full' }],
  [161, { name: 'chroot', handler: sysChroot, support: 'full' }],
  [217, { name: 'getdents64', handler: sysGetdents64, support: 'full' }],
];
