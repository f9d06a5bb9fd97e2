// The Gofer's write-class 9P2000.L operations (Tlcreate, Tmkdir, Tsymlink, Tmknod, Tlink,
// Trenameat, Trename, Tunlinkat, Tremove, Tsetattr, Twrite, Tfsync) over LocalFs's fid table.
// In read-only mode every one of them is refused with EROFS here, before any host call (the
// bind mount is also read-only, as a second wall); Tfsync alone answers success, as Linux does
// on a read-only mount. It must never take a multi-component name, follow a symlink, or create
// a device node. New files are owned by the attaching uid and the gid the client gives.

import { Errno } from '../abi/linux/errno.js';
import type { HostFd } from '../host/fd.js';
import {
  AT_EMPTY_PATH,
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  fchmod,
  fchownat,
  fstat,
  fstatat,
  fsync,
  ftruncate,
  getStatusFlags,
  linkat,
  mkdirat,
  mknodat,
  O_ACCMODE,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  openat,
  pwrite,
  renameat,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  setStatusFlags,
  symlinkat,
  unlinkat,
  UTIME_NOW,
  UTIME_OMIT,
  utimensat,
} from '../host/fs.js';
import type { Msg, MsgOf } from '../p9/codec.js';
import type { HandlerReply } from '../p9/server.js';
import { checkName, OPEN_PASS_FLAGS, type FidState, type LocalFs } from './local_fs.js';
import { Node } from './node.js';

const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const NO_ID = 0xffffffff;
// Tsetattr valid bits (P9_ATTR_*).
const ATTR_MODE = 0x1;
const ATTR_UID = 0x2;
const ATTR_GID = 0x4;
const ATTR_SIZE = 0x8;
const ATTR_ATIME = 0x10;
const ATTR_MTIME = 0x20;
const ATTR_ATIME_SET = 0x80;
const ATTR_MTIME_SET = 0x100;

/** The requests that may modify the tree. */
export type WriteMsg = Extract<
  Msg,
  {
    type:
      | 'Tlcreate'
      | 'Tmkdir'
      | 'Tsymlink'
      | 'Tmknod'
      | 'Tlink'
      | 'Trenameat'
      | 'Trename'
      | 'Tunlinkat'
      | 'Tremove'
      | 'Tsetattr'
      | 'Twrite'
      | 'Tfsync';
  }
>;

export function handleWrite(fs: LocalFs, req: WriteMsg): HandlerReply {
  if (fs.readonly) {
    if (req.type === 'Tfsync') return { msg: { type: 'Rfsync', tag: req.tag } };
    if (req.type === 'Tremove') fs.clunkFid(req.fid);
    return -Errno.EROFS;
  }
  switch (req.type) {
    case 'Tlcreate':
      return lcreate(fs, req);
    case 'Tmkdir':
      return mkdir(fs, req);
    case 'Tsymlink':
      return symlink(fs, req);
    case 'Tmknod':
      return mknod(fs, req);
    case 'Tlink':
      return link(fs, req);
    case 'Trenameat':
      return renameatOp(fs, req);
    case 'Trename':
      return rename(fs, req);
    case 'Tunlinkat':
      return unlinkatOp(fs, req);
    case 'Tremove':
      return remove(fs, req);
    case 'Tsetattr':
      return setattr(fs, req);
    case 'Twrite':
      return write(fs, req);
    case 'Tfsync':
      return fsyncOp(fs, req);
  }
}

/** The fid of a directory that is not open, or -errno. */
function dirFid(fs: LocalFs, fid: number): FidState | number {
  const f = fs.fid(fid);
  if (typeof f === 'number') return f;
  if (f.node.fmt !== S_IFDIR) return -Errno.ENOTDIR;
  return f;
}

/** Owner and qid of what was just created as `name` in `dir` (never following it). */
function created(
  fs: LocalFs,
  dir: Node,
  name: string,
  gid: number,
): { type: number; version: number; path: bigint } | number {
  const c = fchownat(dir.fd, name, fs.uid, gid, AT_SYMLINK_NOFOLLOW);
  if (c < 0) return c;
  const st = fstatat(dir.fd, name, AT_SYMLINK_NOFOLLOW);
  return typeof st === 'number' ? st : fs.qid(st);
}

// Tlcreate: fid[4] name[s] flags[4] mode[4] gid[4]; Rlcreate: qid[13] iounit[4]. The fid (a
// directory) becomes the new open file; its fd is donated.
function lcreate(fs: LocalFs, req: MsgOf<'Tlcreate'>): HandlerReply {
  const d = dirFid(fs, req.fid);
  if (typeof d === 'number') return d;
  if (d.open !== undefined) return -Errno.EBUSY;
  const bad = checkName(req.name);
  if (bad < 0) return bad;
  const base = (req.flags & (OPEN_PASS_FLAGS | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  let fresh = true;
  let fd = openat(d.node.fd, req.name, base | O_CREAT | O_EXCL, req.mode & 0o7777);
  if (fd === -Errno.EEXIST && (req.flags & O_EXCL) === 0) {
    fresh = false;
    fd = openat(d.node.fd, req.name, base);
  }
  if (typeof fd === 'number') return fd;
  const done = finishCreate(fs, d, req, fd, fresh);
  if (typeof done === 'number') fd.close();
  return done;
}

function finishCreate(
  fs: LocalFs,
  d: FidState,
  req: MsgOf<'Tlcreate'>,
  fd: HostFd,
  fresh: boolean,
): HandlerReply {
  const st = fstat(fd);
  if (typeof st === 'number') return st;
  if ((st.mode & S_IFMT) !== S_IFREG) return -Errno.EEXIST;
  if (fresh) {
    const c = fchownat(fd, '', fs.uid, req.gid, AT_EMPTY_PATH);
    if (c < 0) return c;
  }
  if ((req.flags & O_NONBLOCK) === 0) {
    const fl = getStatusFlags(fd);
    const r = fl < 0 ? fl : setStatusFlags(fd, fl & ~O_NONBLOCK);
    if (r < 0) return r;
  }
  const node = fs.child(d.node, req.name);
  if (typeof node === 'number') return node;
  if (node.ino !== st.ino || node.dev !== st.dev) {
    node.release();
    return -Errno.ESTALE;
  }
  d.node.release();
  d.node = node;
  d.open = { fd, flags: req.flags, dir: false };
  return { msg: { type: 'Rlcreate', tag: req.tag, qid: fs.qid(st), iounit: 0 }, fds: [fd] };
}

// Tmkdir: dfid[4] name[s] mode[4] gid[4]; Rmkdir: qid[13].
function mkdir(fs: LocalFs, req: MsgOf<'Tmkdir'>): HandlerReply {
  const d = dirFid(fs, req.dfid);
  if (typeof d === 'number') return d;
  const bad = checkName(req.name);
  if (bad < 0) return bad;
  const r = mkdirat(d.node.fd, req.name, req.mode & 0o7777);
  if (r < 0) return r;
  const qid = created(fs, d.node, req.name, req.gid);
  return typeof qid === 'number' ? qid : { msg: { type: 'Rmkdir', tag: req.tag, qid } };
}

// Tsymlink: fid[4] name[s] symtgt[s] gid[4]; Rsymlink: qid[13]. The target is stored, never
// resolved by the Gofer.
function symlink(fs: LocalFs, req: MsgOf<'Tsymlink'>): HandlerReply {
  const d = dirFid(fs, req.fid);
  if (typeof d === 'number') return d;
  const bad = checkName(req.name);
  if (bad < 0) return bad;
  if (req.symtgt === '') return -Errno.ENOENT;
  const r = symlinkat(req.symtgt, d.node.fd, req.name);
  if (r < 0) return r;
  const qid = created(fs, d.node, req.name, req.gid);
  return typeof qid === 'number' ? qid : { msg: { type: 'Rsymlink', tag: req.tag, qid } };
}

// Tmknod: dfid[4] name[s] mode[4] major[4] minor[4] gid[4]; Rmknod: qid[13]. FIFOs, sockets
// and regular files only: device nodes are refused.
function mknod(fs: LocalFs, req: MsgOf<'Tmknod'>): HandlerReply {
  const d = dirFid(fs, req.dfid);
  if (typeof d === 'number') return d;
  const bad = checkName(req.name);
  if (bad < 0) return bad;
  const fmt = req.mode & S_IFMT;
  if (fmt !== S_IFIFO && fmt !== S_IFSOCK && fmt !== S_IFREG) return -Errno.EPERM;
  const r = mknodat(d.node.fd, req.name, fmt | (req.mode & 0o7777), 0n);
  if (r < 0) return r;
  const qid = created(fs, d.node, req.name, req.gid);
  return typeof qid === 'number' ? qid : { msg: { type: 'Rmknod', tag: req.tag, qid } };
}

// Tlink: dfid[4] fid[4] name[s]. Links the walked inode itself (AT_EMPTY_PATH), not a name.
function link(fs: LocalFs, req: MsgOf<'Tlink'>): HandlerReply {
  const d = dirFid(fs, req.dfid);
  if (typeof d === 'number') return d;
  const f = fs.fid(req.fid);
  if (typeof f === 'number') return f;
  const bad = checkName(req.name);
  if (bad < 0) return bad;
  if (f.node.fmt === S_IFDIR) return -Errno.EPERM;
  const r = linkat(f.node.fd, '', d.node.fd, req.name, AT_EMPTY_PATH);
  return r < 0 ? r : { msg: { type: 'Rlink', tag: req.tag } };
}

// Trenameat: olddirfid[4] oldname[s] newdirfid[4] newname[s].
function renameatOp(fs: LocalFs, req: MsgOf<'Trenameat'>): HandlerReply {
  const od = dirFid(fs, req.olddirfid);
  if (typeof od === 'number') return od;
  const nd = dirFid(fs, req.newdirfid);
  if (typeof nd === 'number') return nd;
  const bad = checkName(req.oldname) || checkName(req.newname);
  if (bad < 0) return bad;
  const r = renameat(od.node.fd, req.oldname, nd.node.fd, req.newname);
  return r < 0 ? r : { msg: { type: 'Rrenameat', tag: req.tag } };
}

// Trename: fid[4] dfid[4] name[s] (the fid's file moves into dfid as name).
function rename(fs: LocalFs, req: MsgOf<'Trename'>): HandlerReply {
  const f = fs.fid(req.fid);
  if (typeof f === 'number') return f;
  const nd = dirFid(fs, req.dfid);
  if (typeof nd === 'number') return nd;
  const bad = checkName(req.name);
  if (bad < 0) return bad;
  const parent = f.node.parent;
  if (parent === undefined) return -Errno.EBUSY;
  const same = sameInode(parent, f.node);
  if (same < 0) return same;
  const r = renameat(parent.fd, f.node.name, nd.node.fd, req.name);
  return r < 0 ? r : { msg: { type: 'Rrename', tag: req.tag } };
}

/** 0 if `node.name` in `parent` still names the node's inode. */
function sameInode(parent: Node, node: Node): number {
  const st = fstatat(parent.fd, node.name, AT_SYMLINK_NOFOLLOW);
  if (typeof st === 'number') return st;
  return st.ino === node.ino && st.dev === node.dev ? 0 : -Errno.ESTALE;
}

// Tunlinkat: dirfd[4] name[s] flags[4] (0 or AT_REMOVEDIR).
function unlinkatOp(fs: LocalFs, req: MsgOf<'Tunlinkat'>): HandlerReply {
  const d = dirFid(fs, req.dirfid);
  if (typeof d === 'number') return d;
  const bad = checkName(req.name);
  if (bad < 0) return bad;
  if ((req.flags & ~AT_REMOVEDIR) !== 0) return -Errno.EINVAL;
  const r = unlinkat(d.node.fd, req.name, req.flags);
  return r < 0 ? r : { msg: { type: 'Runlinkat', tag: req.tag } };
}

// Tremove: fid[4]. The fid is clunked whatever the outcome.
function remove(fs: LocalFs, req: MsgOf<'Tremove'>): HandlerReply {
  const f = fs.fid(req.fid);
  if (typeof f === 'number') return f;
  const parent = f.node.parent;
  let r = parent === undefined ? -Errno.EBUSY : sameInode(parent, f.node);
  if (r === 0 && parent !== undefined) {
    r = unlinkat(parent.fd, f.node.name, f.node.fmt === S_IFDIR ? AT_REMOVEDIR : 0);
  }
  fs.clunkFid(req.fid);
  return r < 0 ? r : { msg: { type: 'Rremove', tag: req.tag } };
}

// Tsetattr: fid[4] valid[4] mode[4] uid[4] gid[4] size[8] atime_sec[8] atime_nsec[8]
// mtime_sec[8] mtime_nsec[8]. Applied in the order mode, owner, size, times.
function setattr(fs: LocalFs, req: MsgOf<'Tsetattr'>): HandlerReply {
  const f = fs.fid(req.fid);
  if (typeof f === 'number') return f;
  const node = f.node;
  if ((req.valid & ATTR_MODE) !== 0) {
    if (node.fmt === S_IFLNK) return -Errno.EOPNOTSUPP;
    const r = withReopened(fs, node, O_RDONLY, (fd) => fchmod(fd, req.mode & 0o7777));
    if (r < 0) return r;
  }
  if ((req.valid & (ATTR_UID | ATTR_GID)) !== 0) {
    const uid = (req.valid & ATTR_UID) !== 0 ? req.uid : NO_ID;
    const gid = (req.valid & ATTR_GID) !== 0 ? req.gid : NO_ID;
    const r = fchownat(node.fd, '', uid, gid, AT_EMPTY_PATH);
    if (r < 0) return r;
  }
  if ((req.valid & ATTR_SIZE) !== 0) {
    if (node.fmt === S_IFDIR) return -Errno.EISDIR;
    if (node.fmt !== S_IFREG) return -Errno.EINVAL;
    if (req.size >= 1n << 63n) return -Errno.EFBIG;
    const r = withReopened(fs, node, O_WRONLY, (fd) => ftruncate(fd, req.size));
    if (r < 0) return r;
  }
  if ((req.valid & (ATTR_ATIME | ATTR_MTIME)) !== 0) {
    const time = (bit: number, set: number, sec: bigint, nsec: bigint): [bigint, bigint] =>
      (req.valid & bit) === 0
        ? [0n, UTIME_OMIT]
        : (req.valid & set) === 0
          ? [0n, UTIME_NOW]
          : [sec, nsec];
    const at = time(ATTR_ATIME, ATTR_ATIME_SET, req.atimeSec, req.atimeNsec);
    const mt = time(ATTR_MTIME, ATTR_MTIME_SET, req.mtimeSec, req.mtimeNsec);
    if (at[1] >= 1_000_000_000n && at[1] !== UTIME_NOW && at[1] !== UTIME_OMIT)
      return -Errno.EINVAL;
    if (mt[1] >= 1_000_000_000n && mt[1] !== UTIME_NOW && mt[1] !== UTIME_OMIT)
      return -Errno.EINVAL;
    if (at[0] >= 1n << 63n || mt[0] >= 1n << 63n) return -Errno.EINVAL;
    const r = utimensat(node.fd, '', at, mt, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    if (r < 0) return r;
  }
  return { msg: { type: 'Rsetattr', tag: req.tag } };
}

function withReopened(fs: LocalFs, node: Node, flags: number, op: (fd: HostFd) => number): number {
  const o = fs.reopen(node, flags);
  if (typeof o === 'number') return o;
  const r = op(o.fd);
  o.fd.close();
  return r;
}

// Twrite: fid[4] offset[8] count[4] data[count]; Rwrite: count[4].
function write(fs: LocalFs, req: MsgOf<'Twrite'>): HandlerReply {
  const f = fs.fid(req.fid);
  if (typeof f === 'number') return f;
  const o = f.open;
  if (o === undefined || o.dir || (o.flags & O_ACCMODE) === O_RDONLY) return -Errno.EBADF;
  if (req.offset > BigInt(Number.MAX_SAFE_INTEGER)) return -Errno.EINVAL;
  const n = pwrite(o.fd, req.data, req.offset);
  return n < 0 ? n : { msg: { type: 'Rwrite', tag: req.tag, count: n } };
}

// Tfsync: fid[4] datasync[4].
function fsyncOp(fs: LocalFs, req: MsgOf<'Tfsync'>): HandlerReply {
  const f = fs.fid(req.fid);
  if (typeof f === 'number') return f;
  if (f.open === undefined) return -Errno.EBADF;
  const r = fsync(f.open.fd, req.datasync !== 0);
  return r < 0 ? r : { msg: { type: 'Rfsync', tag: req.tag } };
}
