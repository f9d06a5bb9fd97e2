// The Sentry-facing 9P2000.L client contract: what the Sentry's gofer file system calls.
// Synchronous by design (the Sentry's hot path has no Promise): each call writes a request on
// the connected socket and blocks until its reply. Every method returns a value or a negative
// Linux errno (Rlerror's ecode, or -EIO for a broken channel); none throws.
//
// Fids are numbers chosen by the client. The root fid comes from attach.

import type { HostFd } from '../host/fd.js';

/** A Gofer serving a file bind mount serves the file as this single entry of its root. */
export const FILE_MOUNT_NAME = 'file';

/** 9P2000.L qid: type (QTDIR 0x80, QTSYMLINK 0x02, QTFILE 0), version, path (the inode). */
export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

/** Rgetattr's fields that the Sentry uses (9P2000.L getattr, P9_GETATTR_BASIC). */
export interface P9Attr {
  qid: Qid;
  mode: number;
  uid: number;
  gid: number;
  nlink: bigint;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeSec: bigint;
  atimeNsec: bigint;
  mtimeSec: bigint;
  mtimeNsec: bigint;
  ctimeSec: bigint;
  ctimeNsec: bigint;
}

export interface P9Dirent {
  qid: Qid;
  /** Opaque offset to pass to the next readdir. */
  offset: bigint;
  /** DT_* type. */
  type: number;
  name: string;
}

export interface P9Open {
  qid: Qid;
  iounit: number;
  /** The host fd the Gofer donated (regular files), opened with exactly the access asked. */
  fd?: HostFd;
}

export interface P9StatFs {
  type: number;
  bsize: number;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  fsid: bigint;
  namelen: number;
}

/** Tsetattr valid bits (9P2000.L P9_ATTR_*): which fields of P9SetAttr apply. ATIME/MTIME
 * without the matching *_SET bit set the time to "now". */
export const P9_ATTR_MODE = 0x1;
export const P9_ATTR_UID = 0x2;
export const P9_ATTR_GID = 0x4;
export const P9_ATTR_SIZE = 0x8;
export const P9_ATTR_ATIME = 0x10;
export const P9_ATTR_MTIME = 0x20;
export const P9_ATTR_CTIME = 0x40;
export const P9_ATTR_ATIME_SET = 0x80;
export const P9_ATTR_MTIME_SET = 0x100;

/** Tsetattr's fields; only those whose P9_ATTR_* bit is in `valid` are applied. */
export interface P9SetAttr {
  valid: number;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: bigint;
  atimeSec?: bigint;
  atimeNsec?: bigint;
  mtimeSec?: bigint;
  mtimeNsec?: bigint;
}

export interface GoferClient {
  /** The root fid from attach. */
  readonly rootFid: number;
  /** Twalk from `fid` through `names` (single components, no '/'); a new fid on full success, else -errno (-ENOENT for a partial walk). An empty `names` clones the fid. */
  walk(fid: number, names: readonly string[]): { fid: number; qids: Qid[] } | number;
  getattr(fid: number): P9Attr | number;
  /** Twalk of one name and Tgetattr of the new fid in one round trip, where the client can. */
  walkGetattr?(fid: number, name: string): { fid: number; attr: P9Attr } | number;
  /** Tlopen with Linux open flags (O_RDONLY/O_WRONLY/O_RDWR, O_TRUNC, O_APPEND…). */
  lopen(fid: number, flags: number): P9Open | number;
  read(fid: number, offset: bigint, count: number): Uint8Array | number;
  write(fid: number, offset: bigint, data: Uint8Array): number;
  /** Treaddir on a fid opened with lopen; pass 0n, then the last entry's offset. An empty
   * array is the end. Our Gofer leaves out "." and ".."; other servers (diod) include them. */
  readdir(fid: number, offset: bigint, count: number): P9Dirent[] | number;
  readlink(fid: number): string | number;
  statfs(fid: number): P9StatFs | number;
  /** Tlcreate: `fid` (a directory) becomes the new open file. */
  lcreate(fid: number, name: string, flags: number, mode: number, gid: number): P9Open | number;
  mkdir(dfid: number, name: string, mode: number, gid: number): Qid | number;
  symlink(dfid: number, name: string, target: string, gid: number): Qid | number;
  link(dfid: number, fid: number, name: string): number;
  renameat(olddirfid: number, oldname: string, newdirfid: number, newname: string): number;
  unlinkat(dfid: number, name: string, flags: number): number;
  fsync(fid: number): number;
  clunk(fid: number): number;
  /** Tsetattr (chmod, chown, truncate, utimes). */
  setattr(fid: number, attr: P9SetAttr): number;
  /** Tmknod: FIFOs, sockets and regular files (the Gofer refuses device nodes). */
  mknod(
    dfid: number,
    name: string,
    mode: number,
    major: number,
    minor: number,
    gid: number,
  ): Qid | number;
  /**
   * Txattrwalk: a new fid whose Tread serves the value of `name`, or with "" the names (each
   * followed by NUL); the value's size. The caller clunks the new fid.
   */
  xattrwalk(fid: number, name: string): { fid: number; size: bigint } | number;
  /**
   * Txattrcreate: `fid` (a clone: it is used up) takes `size` bytes by Twrite; its Tclunk sets
   * the attribute with XATTR_CREATE/XATTR_REPLACE `flags` and answers the host's errno. Size 0
   * with XATTR_REPLACE removes it (what Linux's v9fs sends for removexattr).
   */
  xattrcreate(fid: number, name: string, size: bigint, flags: number): number;
  /** Tremove: unlinks the fid's file; the fid is released whatever the reply. */
  remove(fid: number): number;
}
