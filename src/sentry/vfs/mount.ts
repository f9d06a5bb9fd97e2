// The mount tree and dentries: where a path stands (`VfsPath` = mount + dentry), which file
// system is mounted where, and the parent links that `..` and getcwd(2) follow. Dentries are
// cheap records made by each lookup (the file systems cache inodes); a mount sits on an
// inode of its parent mount. Never calls into a concrete file system beyond the Inode
// interface; never throws.

import type { Filesystem, Inode } from './inode.js';

export class Dentry {
  constructor(
    readonly inode: Inode,
    /** The name in the parent ("/" for a mount's root). */
    readonly name: string,
    /** The parent within the same mount; null at the mount's root. */
    readonly parent: Dentry | null,
  ) {}
}

let nextMountId = 1;

export class Mount {
  readonly id: number;
  readonly root: Dentry;
  /** Mounts stacked on inodes of this mount. */
  readonly children = new Map<Inode, Mount>();
  /** nosuid: set-user-ID and set-group-ID bits of its files are ignored at exec. */
  nosuid = false;
  constructor(
    readonly fs: Filesystem,
    readonly parent: Mount | null,
    /** The dentry of `parent` this mount covers; null for the namespace's root mount. */
    readonly mountpoint: Dentry | null,
    readonly readOnly: boolean,
  ) {
    this.id = nextMountId++;
    this.root = new Dentry(fs.root, '/', null);
  }
}

/** A position in the tree: a dentry seen through a mount. */
export interface VfsPath {
  readonly mount: Mount;
  readonly dentry: Dentry;
}

/** The root mount of a new mount namespace over `fs`. */
export function newRootMount(fs: Filesystem, readOnly = false): Mount {
  return new Mount(fs, null, null, readOnly);
}

/** The root of a mount as a path. */
export function mountRoot(m: Mount): VfsPath {
  return { mount: m, dentry: m.root };
}

/** Mounts `fs` on the directory at `at` (which the caller resolved); the new mount. */
export function mountAt(at: VfsPath, fs: Filesystem, readOnly = false): Mount {
  const m = new Mount(fs, at.mount, at.dentry, readOnly);
  at.mount.children.set(at.dentry.inode, m);
  return m;
}

/** The topmost mount stacked on `p`, as a path; `p` itself when nothing is mounted there. */
export function crossMounts(p: VfsPath): VfsPath {
  let cur = p;
  for (;;) {
    const m = cur.mount.children.get(cur.dentry.inode);
    if (m === undefined) return cur;
    cur = { mount: m, dentry: m.root };
  }
}

export function samePath(a: VfsPath, b: VfsPath): boolean {
  return a.mount === b.mount && a.dentry.inode === b.dentry.inode;
}

/** The parent of `p`, never above `root`; crosses mount boundaries upward. */
export function parentOf(p: VfsPath, root: VfsPath): VfsPath {
  let cur = p;
  for (;;) {
    if (samePath(cur, root)) return cur;
    if (cur.dentry.parent !== null) return { mount: cur.mount, dentry: cur.dentry.parent };
    const mp = cur.mount.mountpoint;
    const pm = cur.mount.parent;
    if (mp === null || pm === null) return cur;
    cur = { mount: pm, dentry: mp };
  }
}

/** The absolute path of `p` as seen from `root`, or null when `p` is not under `root`. */
export function pathString(p: VfsPath, root: VfsPath): string | null {
  const names: string[] = [];
  let cur = p;
  for (;;) {
    if (samePath(cur, root)) break;
    if (cur.dentry.parent !== null) {
      names.push(cur.dentry.name);
      cur = { mount: cur.mount, dentry: cur.dentry.parent };
      continue;
    }
    const mp = cur.mount.mountpoint;
    const pm = cur.mount.parent;
    if (mp === null || pm === null) return null;
    cur = { mount: pm, dentry: mp };
  }
  return '/' + names.reverse().join('/');
}
