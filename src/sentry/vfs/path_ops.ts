// The vfs's name-changing operations, with Linux's checks and their order: mkdir, mknod,
// symlink, link, unlink, rmdir and rename over (dirfd, path) pairs. Resolves parents, checks write and
// search permission on them, the sticky bit, read-only mounts, mount points (EBUSY) and
// cross-mount moves (EXDEV); the file system then does the change. Never throws.

import { CAP_FOWNER } from '../../abi/linux/capability.js';
import { capable } from '../kernel/credentials.js';
import { Errno } from '../../abi/linux/errno.js';
import {
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  S_ISVTX,
  type Stat,
} from '../../abi/linux/file.js';
import type { Inode } from './inode.js';
import type { VfsPath } from './mount.js';
import { MAY_EXEC, MAY_WRITE, checkPermission } from './permissions.js';
import {
  isDir,
  lookupChild,
  startFor,
  walkParent,
  walkPath,
  type ParentAndName,
  type ResolveContext,
} from './resolve.js';

/** renameat2 flags. */
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

function parentAt(ctx: ResolveContext, dirfd: number, path: string): ParentAndName | number {
  if (path.length === 0) return -Errno.ENOENT;
  const start = startFor(ctx, dirfd, path);
  if (typeof start === 'number') return start;
  return walkParent(ctx, start, path);
}

function statOf(i: Inode): Stat | number {
  return i.stat();
}

/** Write and search permission on directory `dir`. */
function mayChangeDir(ctx: ResolveContext, dir: VfsPath): number {
  const st = statOf(dir.dentry.inode);
  if (typeof st === 'number') return st;
  return checkPermission(ctx.creds, st, MAY_WRITE | MAY_EXEC);
}

/** Linux's may_delete: permission on the parent, the sticky bit, mount points. */
function mayDelete(ctx: ResolveContext, dir: VfsPath, child: Inode): number {
  const r = mayChangeDir(ctx, dir);
  if (r < 0) return r;
  const dst = statOf(dir.dentry.inode);
  const cst = statOf(child);
  if (typeof dst === 'number') return dst;
  if (typeof cst === 'number') return cst;
  const fsuid = ctx.creds.fsuid;
  const owner = fsuid === cst.uid || fsuid === dst.uid || capable(ctx.creds, CAP_FOWNER);
  if ((dst.mode & S_ISVTX) !== 0 && !owner) {
    return -Errno.EPERM;
  }
  if (dir.mount.children.has(child)) return -Errno.EBUSY;
  return 0;
}

/** The child `name` of `dir` without crossing mounts (what unlink and rename act on). */
function childOf(ctx: ResolveContext, dir: VfsPath, name: string): Inode | number {
  const inode = dir.dentry.inode;
  const p = lookupChild(ctx, dir, name);
  if (typeof p === 'number') return p;
  if (inode.lookup === undefined) return -Errno.ENOTDIR;
  return inode.lookup(name);
}

/** mkdirat(2). */
export function mkdirAt(ctx: ResolveContext, dirfd: number, path: string, mode: number): number {
  const pn = parentAt(ctx, dirfd, path);
  if (typeof pn === 'number') return pn;
  const { parent, name } = pn;
  if (name === '.' || name === '..') return -Errno.EEXIST;
  const found = lookupChild(ctx, parent, name);
  if (typeof found !== 'number') return -Errno.EEXIST;
  if (found !== -Errno.ENOENT) return found;
  if (parent.mount.readOnly) return -Errno.EROFS;
  const r = mayChangeDir(ctx, parent);
  if (r < 0) return r;
  const dir = parent.dentry.inode;
  if (dir.mkdir === undefined) return -Errno.EPERM;
  const made = dir.mkdir(name, mode & ~ctx.fs.umask & 0o1777, ctx.creds);
  return typeof made === 'number' ? made : 0;
}

/**
 * mknodat(2). Differences from Linux: device nodes (S_IFCHR, S_IFBLK) answer EPERM even for
 * root.
 */
export function mknodAt(ctx: ResolveContext, dirfd: number, path: string, mode: number): number {
  const made = makeNode(ctx, dirfd, path, mode);
  return typeof made === 'number' ? made : 0;
}

/**
 * The node a Unix socket's bind(2) makes at `path` (mode already masked by the umask), as
 * Linux's unix_bind_bsd: the inode, or -errno (-EEXIST when the name is taken).
 */
export function mksockAt(
  ctx: ResolveContext,
  dirfd: number,
  path: string,
  perm: number,
): Inode | number {
  return makeNode(ctx, dirfd, path, S_IFSOCK | (perm & 0o7777), true);
}

function makeNode(
  ctx: ResolveContext,
  dirfd: number,
  path: string,
  mode: number,
  masked = false,
): Inode | number {
  let type = mode & S_IFMT;
  if (type === 0) type = S_IFREG;
  if (type === S_IFDIR) return -Errno.EPERM;
  if (
    type !== S_IFREG &&
    type !== S_IFIFO &&
    type !== S_IFCHR &&
    type !== S_IFBLK &&
    type !== S_IFSOCK
  ) {
    return -Errno.EINVAL;
  }
  const pn = parentAt(ctx, dirfd, path);
  if (typeof pn === 'number') return pn;
  const { parent, name } = pn;
  if (name === '.' || name === '..') return -Errno.EEXIST;
  const found = lookupChild(ctx, parent, name);
  if (typeof found !== 'number') return -Errno.EEXIST;
  if (found !== -Errno.ENOENT) return found;
  if (parent.mount.readOnly) return -Errno.EROFS;
  const r = mayChangeDir(ctx, parent);
  if (r < 0) return r;
  const dir = parent.dentry.inode;
  const perm = masked ? mode & 0o7777 : mode & ~ctx.fs.umask & 0o7777;
  if (type === S_IFREG)
    return dir.create === undefined ? -Errno.EPERM : dir.create(name, S_IFREG | perm, ctx.creds);
  if (type === S_IFIFO)
    return dir.mkfifo === undefined ? -Errno.EPERM : dir.mkfifo(name, perm, ctx.creds);
  if (type === S_IFSOCK)
    return dir.mksock === undefined ? -Errno.EPERM : dir.mksock(name, perm, ctx.creds);
  return -Errno.EPERM;
}

/** symlinkat(2). */
export function symlinkAt(
  ctx: ResolveContext,
  target: string,
  dirfd: number,
  path: string,
): number {
  if (target.length === 0) return -Errno.ENOENT;
  const pn = parentAt(ctx, dirfd, path);
  if (typeof pn === 'number') return pn;
  const { parent, name, trailingSlash } = pn;
  if (name === '.' || name === '..') return -Errno.EEXIST;
  const found = lookupChild(ctx, parent, name);
  if (typeof found !== 'number') return -Errno.EEXIST;
  if (found !== -Errno.ENOENT) return found;
  if (trailingSlash) return -Errno.ENOENT;
  if (parent.mount.readOnly) return -Errno.EROFS;
  const r = mayChangeDir(ctx, parent);
  if (r < 0) return r;
  const dir = parent.dentry.inode;
  if (dir.symlink === undefined) return -Errno.EPERM;
  const made = dir.symlink(name, target, ctx.creds);
  return typeof made === 'number' ? made : 0;
}

/** linkat(2): `follow` is AT_SYMLINK_FOLLOW. */
export function linkAt(
  ctx: ResolveContext,
  olddirfd: number,
  oldpath: string,
  newdirfd: number,
  newpath: string,
  follow: boolean,
): number {
  const start = startFor(ctx, olddirfd, oldpath);
  if (typeof start === 'number') return start;
  const old = walkPath(ctx, start, oldpath, follow);
  if (typeof old === 'number') return old;
  const pn = parentAt(ctx, newdirfd, newpath);
  if (typeof pn === 'number') return pn;
  const { parent, name, trailingSlash } = pn;
  if (name === '.' || name === '..') return -Errno.EEXIST;
  const found = lookupChild(ctx, parent, name);
  if (typeof found !== 'number') return -Errno.EEXIST;
  if (found !== -Errno.ENOENT) return found;
  if (trailingSlash) return -Errno.ENOENT;
  if (parent.mount !== old.mount) return -Errno.EXDEV;
  if (parent.mount.readOnly) return -Errno.EROFS;
  const r = mayChangeDir(ctx, parent);
  if (r < 0) return r;
  if (isDir(old.dentry.inode)) return -Errno.EPERM;
  const dir = parent.dentry.inode;
  if (dir.link === undefined) return -Errno.EPERM;
  return dir.link(name, old.dentry.inode);
}

/** unlinkat(2): with `removeDir` (AT_REMOVEDIR) it is rmdir(2). */
export function unlinkAt(
  ctx: ResolveContext,
  dirfd: number,
  path: string,
  removeDir: boolean,
): number {
  const pn = parentAt(ctx, dirfd, path);
  if (typeof pn === 'number') return pn;
  const { parent, name, trailingSlash } = pn;
  if (removeDir) {
    if (name === '.') return -Errno.EINVAL;
    if (name === '..') return -Errno.ENOTEMPTY;
  } else if (name === '.' || name === '..') {
    return -Errno.EISDIR;
  }
  if (parent.mount.readOnly) return -Errno.EROFS;
  const child = childOf(ctx, parent, name);
  if (typeof child === 'number') return child;
  const dir = parent.dentry.inode;
  if (removeDir) {
    if (!isDir(child)) return -Errno.ENOTDIR;
  } else {
    if (isDir(child)) return -Errno.EISDIR;
    if (trailingSlash) return -Errno.ENOTDIR;
  }
  const r = mayDelete(ctx, parent, child);
  if (r < 0) return r;
  if (removeDir) return dir.rmdir === undefined ? -Errno.EPERM : dir.rmdir(name);
  return dir.unlink === undefined ? -Errno.EPERM : dir.unlink(name);
}

/** True when `ancestor` is `p` or one of its parents within p's mount. */
function isWithin(p: VfsPath, ancestor: Inode): boolean {
  for (let d: VfsPath['dentry'] | null = p.dentry; d !== null; d = d.parent) {
    if (d.inode === ancestor) return true;
  }
  return false;
}

/**
 * renameat2(2). Difference from Linux: RENAME_EXCHANGE and RENAME_WHITEOUT answer EINVAL.
 */
export function renameAt(
  ctx: ResolveContext,
  olddirfd: number,
  oldpath: string,
  newdirfd: number,
  newpath: string,
  flags: number,
): number {
  if ((flags & ~RENAME_NOREPLACE) !== 0) return -Errno.EINVAL;
  const from = parentAt(ctx, olddirfd, oldpath);
  if (typeof from === 'number') return from;
  const to = parentAt(ctx, newdirfd, newpath);
  if (typeof to === 'number') return to;
  const bad = (n: string): boolean => n === '.' || n === '..';
  if (bad(from.name) || bad(to.name)) return -Errno.EBUSY;
  if (from.parent.mount !== to.parent.mount) return -Errno.EXDEV;
  if (from.parent.mount.readOnly) return -Errno.EROFS;
  const src = childOf(ctx, from.parent, from.name);
  if (typeof src === 'number') return src;
  if (!isDir(src) && (from.trailingSlash || to.trailingSlash)) return -Errno.ENOTDIR;
  const dst = childOf(ctx, to.parent, to.name);
  if (typeof dst !== 'number') {
    if ((flags & RENAME_NOREPLACE) !== 0) return -Errno.EEXIST;
    if (dst === src) return 0;
    if (isDir(src) && !isDir(dst)) return -Errno.ENOTDIR;
    if (!isDir(src) && isDir(dst)) return -Errno.EISDIR;
  } else if (dst !== -Errno.ENOENT) {
    return dst;
  }
  const r1 = mayDelete(ctx, from.parent, src);
  if (r1 < 0) return r1;
  if (typeof dst !== 'number') {
    const r2 = mayDelete(ctx, to.parent, dst);
    if (r2 < 0) return r2;
  } else {
    const r2 = mayChangeDir(ctx, to.parent);
    if (r2 < 0) return r2;
  }
  if (isDir(src) && isWithin(to.parent, src)) return -Errno.EINVAL;
  const dir = from.parent.dentry.inode;
  if (dir.rename === undefined) return -Errno.EPERM;
  return dir.rename(from.name, to.parent.dentry.inode, to.name);
}
