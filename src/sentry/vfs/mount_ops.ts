// Mounting by path and making the first task's file system state: what the boot module calls
// to assemble the container's view (root, then /dev, /tmp… on top). Takes file systems as
// values and never names a concrete one; never throws.

import { Errno } from '../../abi/linux/errno.js';
import { FdTable } from './fd_table.js';
import { FsContext } from './fs_context.js';
import type { Filesystem } from './inode.js';
import { mountAt, mountRoot, newRootMount, type Mount } from './mount.js';
import { isDir, walkPath, type ResolveContext } from './resolve.js';

/** A new mount tree over `rootFs`, and the init task's FsContext (root = cwd = "/"). */
export function newRootFsContext(rootFs: Filesystem, readOnly = false): FsContext {
  return new FsContext(mountRoot(newRootMount(rootFs, readOnly)));
}

/** An empty fd table with RLIMIT_NOFILE `limit`. */
export function newFdTable(limit?: number): FdTable {
  return new FdTable(limit);
}

/** Mounts `fs` on the existing directory `path` as `ctx` resolves it; the new mount or -errno. */
export function mountAtPath(
  ctx: ResolveContext,
  path: string,
  fs: Filesystem,
  readOnly = false,
): Mount | number {
  const p = walkPath(ctx, ctx.fs.cwd, path, true);
  if (typeof p === 'number') return p;
  if (!isDir(p.dentry.inode)) return -Errno.ENOTDIR;
  return mountAt(p, fs, readOnly);
}
