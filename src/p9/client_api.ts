// The Sentry-facing 9P2000.L client contract: what the Sentry's gofer file system calls.
// Synchronous by design (the Sentry's hot path has no Promise): each call writes a request on
// the connected socket and blocks until its reply. Every method returns a value or a negative
// Linux errno (Rlerror's ecode, or -EIO for a broken channel); none throws.
//
// Fids are numbers chosen by the client. The root fid comes from attach.

import type { HostFd } from '../host/fd.js';

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

export interface GoferClient {
  /** The root fid from attach. */
  readonly rootFid: number;
  /** Twalk from `fid` through `names` (single components, no '/'); a new fid on full success, else -errno (-ENOENT for a partial walk). An empty `names` clones the fid. */
  walk(fid: number, names: readonly string[]): { fid: number; qids: Qid[] } | number;
  getattr(fid: number): P9Attr | number;
  /** Tlopen with Linux open flags (O_RDONLY/O_WRONLY/O_RDWR, O_TRUNC, O_APPEND…). */
  lopen(fid: number, flags: number): P9Open | number;
  read(fid: number, offset: bigint, count: number): Uint8Array | number;
  write(fid: number, offset: bigint, data: Uint8Array): number;
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
}
