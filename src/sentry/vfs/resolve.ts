// Path resolution as Linux does it: absolute paths from the task's root, relative ones from
// the working directory or a dirfd; "." and ".." (never above the task's root, crossing mount
// boundaries upward); mounts crossed downward; symbolic links followed with at most 40 per
// resolution (ELOOP); trailing slashes demanding a directory; search permission on every
// directory walked; ENAMETOOLONG past PATH_MAX or NAME_MAX. Pure walking: never creates,
// never throws; every function returns a position or -errno.

import { Errno } from '../../abi/linux/errno.js';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  NAME_MAX,
  PATH_MAX,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
} from '../../abi/linux/file.js';
import type { Credentials } from '../syscalls/types.js';
import type { FdTable } from './fd_table.js';
import type { FsContext } from './fs_context.js';
import type { Inode } from './inode.js';
import { Dentry, crossMounts, parentOf, samePath, type VfsPath } from './mount.js';
import { MAY_EXEC, checkPermission } from './permissions.js';

/** Linux's MAXSYMLINKS. */
export const MAX_SYMLINKS = 40;

/** What resolution needs of the calling task. */
export interface ResolveContext {
  readonly fs: FsContext;
  readonly files: FdTable;
  readonly creds: Credentials;
}

/** A resolution's symlink budget, shared by the walks of one system call. */
export interface LinkBudget {
  links: number;
}

/** openat2(2)'s RESOLVE_* restrictions, as the walk applies them. */
export interface ResolveOpts {
  /** The root for this resolution (RESOLVE_IN_ROOT, RESOLVE_BENEATH: the dirfd). */
  root?: VfsPath;
  /** RESOLVE_BENEATH: leaving `root` (absolute paths, ".." at it) answers EXDEV. */
  beneath?: boolean;
  /** RESOLVE_NO_SYMLINKS: any symlink to follow answers ELOOP. */
  noSymlinks?: boolean;
  /** RESOLVE_NO_XDEV: crossing a mount either way answers EXDEV. */
  noXdev?: boolean;
}

const NO_OPTS: ResolveOpts = {};

export function isDir(i: Inode): boolean {
  return (i.type & S_IFMT) === S_IFDIR;
}

export function isSymlink(i: Inode): boolean {
  return (i.type & S_IFMT) === S_IFLNK;
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Where a relative `path` starts: the cwd for AT_FDCWD, else the directory open at `dirfd`. */
export function startFor(ctx: ResolveContext, dirfd: number, path: string): VfsPath | number {
  if (path.startsWith('/')) return ctx.fs.root;
  if (dirfd === AT_FDCWD) return ctx.fs.cwd;
  const f = ctx.files.get(dirfd);
  if (f === undefined) return -Errno.EBADF;
  if (f.path === null || !isDir(f.inode)) return -Errno.ENOTDIR;
  return f.path;
}

/** Searches directory `dir` for `name` (one component, not "." or ".."), crossing mounts. */
export function lookupChild(
  ctx: ResolveContext,
  dir: VfsPath,
  name: string,
  opts: ResolveOpts = NO_OPTS,
): VfsPath | number {
  const inode = dir.dentry.inode;
  if (!isDir(inode) || inode.lookup === undefined) return -Errno.ENOTDIR;
  const st = inode.stat();
  if (typeof st === 'number') return st;
  const perm = checkPermission(ctx.creds, st, MAY_EXEC);
  if (perm < 0) return perm;
  if (byteLength(name) > NAME_MAX) return -Errno.ENAMETOOLONG;
  const child = inode.lookup(name);
  if (typeof child === 'number') return child;
  const here: VfsPath = { mount: dir.mount, dentry: new Dentry(child, name, dir.dentry) };
  const there = crossMounts(here);
  if (opts.noXdev === true && there.mount !== here.mount) return -Errno.EXDEV;
  return there;
}

/**
 * Resolves `path` from `start` (ignored for absolute paths). `follow` says whether a symlink
 * in the final component is followed (a trailing slash always follows).
 */
export function walkPath(
  ctx: ResolveContext,
  start: VfsPath,
  path: string,
  follow: boolean,
  budget: LinkBudget = { links: 0 },
  opts: ResolveOpts = NO_OPTS,
): VfsPath | number {
  if (path.length === 0) return -Errno.ENOENT;
  if (byteLength(path) >= PATH_MAX) return -Errno.ENAMETOOLONG;
  const root = opts.root ?? ctx.fs.root;
  const beneath = opts.beneath === true;
  if (beneath && path.startsWith('/')) return -Errno.EXDEV;
  let cur = path.startsWith('/') ? root : start;
  const stack = path.split('/').reverse();
  let mustDir = path.endsWith('/');
  while (stack.length > 0) {
    const name = stack.pop();
    if (name === undefined || name.length === 0) continue;
    const isLast = stack.every((c) => c.length === 0);
    const dirInode = cur.dentry.inode;
    if (!isDir(dirInode)) return -Errno.ENOTDIR;
    if (name === '.' || name === '..') {
      const st = dirInode.stat();
      if (typeof st === 'number') return st;
      const perm = checkPermission(ctx.creds, st, MAY_EXEC);
      if (perm < 0) return perm;
      if (name === '..') {
        if (beneath && samePath(cur, root)) return -Errno.EXDEV;
        const up = crossMounts(parentOf(cur, root));
        if (opts.noXdev === true && up.mount !== cur.mount) return -Errno.EXDEV;
        cur = up;
      }
      continue;
    }
    const next = lookupChild(ctx, cur, name, opts);
    if (typeof next === 'number') return next;
    const inode = next.dentry.inode;
    if (isSymlink(inode) && (!isLast || follow || mustDir)) {
      if (opts.noSymlinks === true) return -Errno.ELOOP;
      if (++budget.links > MAX_SYMLINKS) return -Errno.ELOOP;
      if (inode.readlink === undefined) return -Errno.EINVAL;
      const target = inode.readlink();
      if (typeof target === 'number') return target;
      if (target.length === 0) return -Errno.ENOENT;
      if (target.startsWith('/')) {
        if (beneath) return -Errno.EXDEV;
        cur = root;
      }
      if (isLast && target.endsWith('/')) mustDir = true;
      const parts = target.split('/');
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i] ?? '');
      continue;
    }
    cur = next;
  }
  if (mustDir && !isDir(cur.dentry.inode)) return -Errno.ENOTDIR;
  return cur;
}

/** The directory holding the last component of `path`, and that component. */
export interface ParentAndName {
  parent: VfsPath;
  /** The final component; "." for "/" and other paths that end in the root or a dot. */
  name: string;
  trailingSlash: boolean;
}

/** Resolves all but the final component of `path` (following symlinks); for creation. */
export function walkParent(
  ctx: ResolveContext,
  start: VfsPath,
  path: string,
  budget: LinkBudget = { links: 0 },
  opts: ResolveOpts = NO_OPTS,
): ParentAndName | number {
  if (path.length === 0) return -Errno.ENOENT;
  if (byteLength(path) >= PATH_MAX) return -Errno.ENAMETOOLONG;
  if (opts.beneath === true && path.startsWith('/')) return -Errno.EXDEV;
  const root = opts.root ?? ctx.fs.root;
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  const trailingSlash = end < path.length;
  if (end === 0) return { parent: root, name: '.', trailingSlash };
  const slash = path.lastIndexOf('/', end - 1);
  const name = path.slice(slash + 1, end);
  if (byteLength(name) > NAME_MAX) return -Errno.ENAMETOOLONG;
  let parent: VfsPath | number;
  if (slash < 0) parent = start;
  else if (slash === 0) parent = root;
  else parent = walkPath(ctx, start, path.slice(0, slash + 1), true, budget, opts);
  if (typeof parent === 'number') return parent;
  if (!isDir(parent.dentry.inode)) return -Errno.ENOTDIR;
  return { parent, name, trailingSlash };
}

/**
 * Resolves (dirfd, path, AT_* flags) as the *at() calls do: AT_SYMLINK_NOFOLLOW leaves a final
 * symlink alone; AT_EMPTY_PATH with "" names the directory or file open at dirfd (a file
 * without a path answers -ENOENT here: callers that can use the open file do so first).
 */
export function resolveAt(
  ctx: ResolveContext,
  dirfd: number,
  path: string,
  atFlags: number,
): VfsPath | number {
  if (path.length === 0) {
    if ((atFlags & AT_EMPTY_PATH) === 0) return -Errno.ENOENT;
    if (dirfd === AT_FDCWD) return ctx.fs.cwd;
    const f = ctx.files.get(dirfd);
    if (f === undefined) return -Errno.EBADF;
    return f.path ?? -Errno.ENOENT;
  }
  const start = startFor(ctx, dirfd, path);
  if (typeof start === 'number') return start;
  return walkPath(ctx, start, path, (atFlags & AT_SYMLINK_NOFOLLOW) === 0);
}
