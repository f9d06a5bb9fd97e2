// open(2) in the vfs: resolves the path, creates under O_CREAT where the file system can,
// applies O_EXCL, O_NOFOLLOW, O_DIRECTORY, O_PATH, O_TRUNC and the access checks, and makes
// the FileDescription. Also the loader's entry point `openPath`. Never throws.
//
// Differences from Linux: O_CREAT through a dangling symlink answers ENOENT instead of
// creating the link's target; O_TMPFILE answers EOPNOTSUPP.

import { Errno } from '../../abi/linux/errno.js';
import {
  AT_FDCWD,
  O_ACCMODE,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_LARGEFILE,
  O_NOCTTY,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TMPFILE,
  O_TRUNC,
  O_WRONLY,
  S_IFMT,
  S_IFREG,
} from '../../abi/linux/file.js';
import { FileDescription } from './file_description.js';
import type { Inode } from './inode.js';
import { Dentry, type VfsPath } from './mount.js';
import { MAY_EXEC, MAY_READ, MAY_WRITE, checkPermission } from './permissions.js';
import {
  isDir,
  isSymlink,
  lookupChild,
  startFor,
  walkParent,
  walkPath,
  type LinkBudget,
  type ResolveContext,
  type ResolveOpts,
} from './resolve.js';

/** Flags that only steer open itself and are not kept in the description. */
const OPEN_ONLY = O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC;

interface Target {
  path: VfsPath;
  created: boolean;
}

function createOrFind(
  ctx: ResolveContext,
  start: VfsPath,
  path: string,
  flags: number,
  mode: number,
  opts: ResolveOpts,
): Target | number {
  const budget: LinkBudget = { links: 0 };
  const pn = walkParent(ctx, start, path, budget, opts);
  if (typeof pn === 'number') return pn;
  const { parent, name, trailingSlash } = pn;
  if (name === '.' || name === '..') return -Errno.EISDIR;
  const found = lookupChild(ctx, parent, name, opts);
  if (typeof found !== 'number') {
    if ((flags & O_EXCL) !== 0) return -Errno.EEXIST;
    if (!isSymlink(found.dentry.inode)) return { path: found, created: false };
    if ((flags & O_NOFOLLOW) !== 0) return -Errno.ELOOP;
    const p = walkPath(ctx, parent, name + (trailingSlash ? '/' : ''), true, budget, opts);
    return typeof p === 'number' ? p : { path: p, created: false };
  }
  if (found !== -Errno.ENOENT) return found;
  if (trailingSlash) return -Errno.EISDIR;
  const dir = parent.dentry.inode;
  const st = dir.stat();
  if (typeof st === 'number') return st;
  const perm = checkPermission(ctx.creds, st, MAY_WRITE | MAY_EXEC);
  if (perm < 0) return perm;
  if (parent.mount.readOnly || dir.create === undefined) return -Errno.EROFS;
  const inode = dir.create(name, (mode & ~ctx.fs.umask & 0o7777) | S_IFREG, ctx.creds);
  if (typeof inode === 'number') return inode;
  return {
    path: { mount: parent.mount, dentry: new Dentry(inode, name, parent.dentry) },
    created: true,
  };
}

/** The access checks of open on an existing inode. */
function mayOpen(ctx: ResolveContext, p: VfsPath, flags: number): number {
  const inode: Inode = p.dentry.inode;
  const acc = flags & O_ACCMODE;
  const wantWrite = acc === O_WRONLY || acc === O_RDWR;
  // Access mode 3 asks for read and write permission and grants neither (ioctl-only opens).
  const rw = acc === O_RDWR || acc === O_ACCMODE;
  if (isDir(inode) && (wantWrite || acc === O_ACCMODE || (flags & (O_CREAT | O_TRUNC)) !== 0)) {
    return -Errno.EISDIR;
  }
  let mask = 0;
  if (acc === O_RDONLY || rw) mask |= MAY_READ;
  if (wantWrite || rw || (flags & O_TRUNC) !== 0) mask |= MAY_WRITE;
  const st = inode.stat();
  if (typeof st === 'number') return st;
  const perm = checkPermission(ctx.creds, st, mask);
  if (perm < 0) return perm;
  const isReg = (inode.type & S_IFMT) === S_IFREG;
  if ((mask & MAY_WRITE) !== 0 && (isReg || isDir(inode)) && p.mount.readOnly) return -Errno.EROFS;
  return 0;
}

/**
 * openat(2) (and openat2(2) with `opts`, whose `root`, when set, is also where the walk starts):
 * a new FileDescription (not yet in any fd table) or -errno.
 */
export function openAt(
  ctx: ResolveContext,
  dirfd: number,
  path: string,
  flags: number,
  mode: number,
  opts: ResolveOpts = {},
): FileDescription | number {
  if ((flags & O_TMPFILE) === O_TMPFILE) return -Errno.EOPNOTSUPP;
  if (path.length === 0) return -Errno.ENOENT;
  const start = opts.root ?? startFor(ctx, dirfd, path);
  if (typeof start === 'number') return start;
  let target: Target | number;
  if ((flags & O_CREAT) !== 0 && (flags & O_PATH) === 0) {
    target = createOrFind(ctx, start, path, flags, mode, opts);
  } else {
    const p = walkPath(ctx, start, path, (flags & O_NOFOLLOW) === 0, { links: 0 }, opts);
    target = typeof p === 'number' ? p : { path: p, created: false };
  }
  if (typeof target === 'number') return target;
  const p = target.path;
  const inode = p.dentry.inode;
  if ((flags & O_PATH) !== 0) {
    if ((flags & O_DIRECTORY) !== 0 && !isDir(inode)) return -Errno.ENOTDIR;
    return new FileDescription(inode, p, null, O_PATH | O_LARGEFILE);
  }
  if (isSymlink(inode)) return -Errno.ELOOP;
  if ((flags & O_DIRECTORY) !== 0 && !isDir(inode)) return -Errno.ENOTDIR;
  if (!target.created) {
    const ok = mayOpen(ctx, p, flags);
    if (ok < 0) return ok;
  }
  const openFlags =
    flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC) & ~(target.created ? O_TRUNC : 0);
  const impl = inode.open(openFlags, ctx.creds);
  if (typeof impl === 'number') return impl;
  return new FileDescription(inode, p, impl, (flags & ~OPEN_ONLY) | O_LARGEFILE);
}

/**
 * Opens `path` (relative to the task's cwd; symlinks followed) with open(2) `flags`: what the
 * loader uses to read executables and the dynamic loader's libraries. Remember to decRef()
 * the description when done with it.
 */
export function openPath(
  ctx: ResolveContext,
  path: string,
  flags: number,
): FileDescription | number {
  return openAt(ctx, AT_FDCWD, path, flags, 0);
}

/**
 * Opens `path` for execve(2): follows symlinks, requires a regular file with execute
 * permission (EACCES otherwise) but not read permission, like Linux's open_exec. The result
 * reads like an O_RDONLY description (pread for the loader). Remember to decRef() it.
 */
export function openExecutable(ctx: ResolveContext, path: string): FileDescription | number {
  if (path.length === 0) return -Errno.ENOENT;
  const start = startFor(ctx, AT_FDCWD, path);
  if (typeof start === 'number') return start;
  const p = walkPath(ctx, start, path, true);
  if (typeof p === 'number') return p;
  const inode = p.dentry.inode;
  if ((inode.type & S_IFMT) !== S_IFREG) return -Errno.EACCES;
  const st = inode.stat();
  if (typeof st === 'number') return st;
  const perm = checkPermission(ctx.creds, st, MAY_EXEC);
  if (perm < 0) return perm;
  const impl = inode.open(O_RDONLY, ctx.creds);
  if (typeof impl === 'number') return impl;
  return new FileDescription(inode, p, impl, O_RDONLY | O_LARGEFILE);
}
