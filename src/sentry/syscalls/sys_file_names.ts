// The file system calls that change names: creat, mkdir, mkdirat, mknod, mknodat, rmdir,
// unlink, unlinkat, symlink, symlinkat, link, linkat, rename, renameat, renameat2. Each
// decodes its paths and calls the vfs (vfs/path_ops.ts), which checks and orders errors like
// Linux. Never throws.

import { Errno } from '../../abi/linux/errno.js';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW,
  O_CREAT,
  O_TRUNC,
  O_WRONLY,
} from '../../abi/linux/file.js';
import { linkAt, mkdirAt, mknodAt, renameAt, symlinkAt, unlinkAt } from '../vfs/path_ops.js';
import { argInt, argPath, argUint } from './sys_file_common.js';
import { doOpen } from './sys_file_open.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';

function withPath(ctx: SyscallContext, addr: bigint, f: (path: string) => number): number {
  const path = argPath(ctx, addr);
  return typeof path === 'number' ? path : f(path);
}

function withPaths(
  ctx: SyscallContext,
  a1: bigint,
  a2: bigint,
  f: (p1: string, p2: string) => number,
): number {
  const p1 = argPath(ctx, a1);
  if (typeof p1 === 'number') return p1;
  const p2 = argPath(ctx, a2);
  if (typeof p2 === 'number') return p2;
  return f(p1, p2);
}

/** Implements Linux syscall creat(2): open(path, O_CREAT|O_WRONLY|O_TRUNC, mode). */
function sysCreat(ctx: SyscallContext, a: SyscallArgs): number {
  return doOpen(ctx, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, argUint(a[1]) & 0o7777);
}

/** Implements Linux syscall mkdir(2). */
function sysMkdir(ctx: SyscallContext, a: SyscallArgs): number {
  return withPath(ctx, a[0], (p) => mkdirAt(ctx, AT_FDCWD, p, argUint(a[1])));
}

/** Implements Linux syscall mkdirat(2). */
function sysMkdirat(ctx: SyscallContext, a: SyscallArgs): number {
  return withPath(ctx, a[1], (p) => mkdirAt(ctx, argInt(a[0]), p, argUint(a[2])));
}

/**
 * Implements Linux syscall mknod(2).
 * Differences from Linux: device nodes answer EPERM; FIFOs only in memory file systems (tmpfs).
 */
function sysMknod(ctx: SyscallContext, a: SyscallArgs): number {
  return withPath(ctx, a[0], (p) => mknodAt(ctx, AT_FDCWD, p, argUint(a[1])));
}

/**
 * Implements Linux syscall mknodat(2).
 * Differences from Linux: device nodes answer EPERM; FIFOs only in memory file systems (tmpfs).
 */
function sysMknodat(ctx: SyscallContext, a: SyscallArgs): number {
  return withPath(ctx, a[1], (p) => mknodAt(ctx, argInt(a[0]), p, argUint(a[2])));
}

/** Implements Linux syscall rmdir(2). */
function sysRmdir(ctx: SyscallContext, a: SyscallArgs): number {
  return withPath(ctx, a[0], (p) => unlinkAt(ctx, AT_FDCWD, p, true));
}

/** Implements Linux syscall unlink(2). */
function sysUnlink(ctx: SyscallContext, a: SyscallArgs): number {
  return withPath(ctx, a[0], (p) => unlinkAt(ctx, AT_FDCWD, p, false));
}

/** Implements Linux syscall unlinkat(2). */
function sysUnlinkat(ctx: SyscallContext, a: SyscallArgs): number {
  const flags = argInt(a[2]);
  if ((flags & ~AT_REMOVEDIR) !== 0) return -Errno.EINVAL;
  return withPath(ctx, a[1], (p) => unlinkAt(ctx, argInt(a[0]), p, (flags & AT_REMOVEDIR) !== 0));
}

/** Implements Linux syscall symlink(2). */
function sysSymlink(ctx: SyscallContext, a: SyscallArgs): number {
  return withPaths(ctx, a[0], a[1], (target, p) => symlinkAt(ctx, target, AT_FDCWD, p));
}

/** Implements Linux syscall symlinkat(2). */
function sysSymlinkat(ctx: SyscallContext, a: SyscallArgs): number {
  return withPaths(ctx, a[0], a[2], (target, p) => symlinkAt(ctx, target, argInt(a[1]), p));
}

/** Implements Linux syscall link(2). */
function sysLink(ctx: SyscallContext, a: SyscallArgs): number {
  return withPaths(ctx, a[0], a[1], (o, n) => linkAt(ctx, AT_FDCWD, o, AT_FDCWD, n, false));
}

/**
 * Implements Linux syscall linkat(2).
 * Difference from Linux: AT_EMPTY_PATH (linking an open file by fd) answers ENOENT.
 */
function sysLinkat(ctx: SyscallContext, a: SyscallArgs): number {
  const flags = argInt(a[4]);
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) return -Errno.EINVAL;
  return withPaths(ctx, a[1], a[3], (o, n) =>
    linkAt(ctx, argInt(a[0]), o, argInt(a[2]), n, (flags & AT_SYMLINK_FOLLOW) !== 0),
  );
}

/** Implements Linux syscall rename(2). */
function sysRename(ctx: SyscallContext, a: SyscallArgs): number {
  return withPaths(ctx, a[0], a[1], (o, n) => renameAt(ctx, AT_FDCWD, o, AT_FDCWD, n, 0));
}

/** Implements Linux syscall renameat(2). */
function sysRenameat(ctx: SyscallContext, a: SyscallArgs): number {
  return withPaths(ctx, a[1], a[3], (o, n) => renameAt(ctx, argInt(a[0]), o, argInt(a[2]), n, 0));
}

/**
 * Implements Linux syscall renameat2(2).
 * Difference from Linux: RENAME_EXCHANGE and RENAME_WHITEOUT answer EINVAL.
 */
function sysRenameat2(ctx: SyscallContext, a: SyscallArgs): number {
  const flags = argUint(a[4]);
  return withPaths(ctx, a[1], a[3], (o, n) =>
    renameAt(ctx, argInt(a[0]), o, argInt(a[2]), n, flags),
  );
}

export const nameSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [82, { name: 'rename', handler: sysRename, support: 'full' }],
  [83, { name: 'mkdir', handler: sysMkdir, support: 'full' }],
  [84, { name: 'rmdir', handler: sysRmdir, support: 'full' }],
  [85, { name: 'creat', handler: sysCreat, support: 'full' }],
  [86, { name: 'link', handler: sysLink, support: 'full' }],
  [87, { name: 'unlink', handler: sysUnlink, support: 'full' }],
  [88, { name: 'symlink', handler: sysSymlink, support: 'full' }],
  [
    133,
    {
      name: 'mknod',
      handler: sysMknod,
      support: 'partial',
      note: 'no device nodes; FIFOs in tmpfs only',
    },
  ],
  [258, { name: 'mkdirat', handler: sysMkdirat, support: 'full' }],
  [
    259,
    {
      name: 'mknodat',
      handler: sysMknodat,
      support: 'partial',
      note: 'no device nodes; FIFOs in tmpfs only',
    },
  ],
  [263, { name: 'unlinkat', handler: sysUnlinkat, support: 'full' }],
  [264, { name: 'renameat', handler: sysRenameat, support: 'full' }],
  [265, { name: 'linkat', handler: sysLinkat, support: 'partial', note: 'AT_EMPTY_PATH: ENOENT' }],
  [266, { name: 'symlinkat', handler: sysSymlinkat, support: 'full' }],
  [316, { name: 'renameat2', handler: sysRenameat2, support: 'partial', note: 'NOREPLACE only' }],
];
