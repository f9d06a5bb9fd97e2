// The Gofer's file server: a 9P2000.L handler (p9/server.ts) over the host directory that is
// the Gofer's root after pivot_root. It owns the fid table; each fid holds a counted Node
// (node.ts) and, once opened, the host fd. Mechanism: walks go one component at a time with
// openat(parent, name, O_PATH|O_NOFOLLOW); ".." is resolved lexically through the node's
// parent and stays at the root; lopen reopens the walked O_PATH fd through /proc/self/fd
// (kept open from before pivot_root) or else by (parent fd, name) with O_NOFOLLOW, and checks
// the inode; regular files opened by Tlopen/Tlcreate are donated to the client (SCM_RIGHTS)
// with exactly the access mode asked. Extended attributes (Txattrwalk, Txattrcreate and the
// Tread/Twrite/Tclunk of their fids) live in xattr.ts. It must never resolve a multi-component path or a
// symlink, never open a file with more access than asked, and in read-only mode never modify
// anything (EROFS), whatever the client sends. Write-class operations live in
// local_fs_write.ts.

import { Errno } from '../abi/linux/errno.js';
import type { HostFd } from '../host/fd.js';
import {
  fstat,
  fstatfs,
  ftruncate,
  getdents64,
  getStatusFlags,
  lseek,
  O_ACCMODE,
  O_APPEND,
  O_CLOEXEC,
  O_DIRECT,
  O_DIRECTORY,
  O_DSYNC,
  O_LARGEFILE,
  O_NOATIME,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_SYNC,
  O_TRUNC,
  O_WRONLY,
  openat,
  pread,
  readlinkat,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  SEEK_SET,
  setStatusFlags,
  type HostStat,
} from '../host/fs.js';
import type { P9Dirent, Qid } from '../p9/client_api.js';
import { encodeDirents, type Msg, type MsgOf } from '../p9/codec.js';
import { RREAD_OVERHEAD } from '../p9/messages.js';
import type { HandlerReply, P9Handler } from '../p9/server.js';
import { handleWrite } from './local_fs_write.js';
import { Node } from './node.js';
import {
  xattrCommit,
  xattrCreate,
  xattrRead,
  xattrWalk,
  xattrWrite,
  type XattrFid,
} from './xattr.js';

export const QTDIR = 0x80;
export const QTSYMLINK = 0x02;
export const QTFILE = 0;
const DT_DIR = 4;
const DT_LNK = 10;
/** Tattach's n_uname when the client gives none. */
const NONUNAME = 0xffffffff;
/** Flags of Tlopen that reach the host open (access mode and I/O behaviour); O_CREAT, O_EXCL,
 * O_DIRECTORY, O_PATH, O_TMPFILE, O_NOCTTY and FASYNC never do. O_TRUNC is applied after the
 * inode check. */
export const OPEN_PASS_FLAGS =
  O_ACCMODE | O_APPEND | O_DSYNC | O_SYNC | O_DIRECT | O_LARGEFILE | O_NOATIME;
const NAME_MAX = 255;

export interface OpenFile {
  fd: HostFd;
  flags: number;
  dir: boolean;
}

export interface FidState {
  node: Node;
  open?: OpenFile;
  /** Set by Txattrwalk (a value or name list to read) or Txattrcreate (a value to write). */
  xattr?: XattrFid;
}

/** A name the client may use as one path component: not "", ".", "..", and without "/". */
export function checkName(name: string): number {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) return -Errno.EINVAL;
  if (Buffer.byteLength(name) > NAME_MAX) return -Errno.ENAMETOOLONG;
  return 0;
}

export class LocalFs implements P9Handler {
  readonly fids = new Map<number, FidState>();
  readonly root: Node;
  /** The uid from Tattach's n_uname: owner of the files the client creates. */
  uid = 0;
  private readonly devs = new Map<bigint, bigint>();

  /** `rootFd`: an O_PATH fd of the served directory (the Gofer's "/" after pivot_root). */
  constructor(
    rootFd: HostFd,
    readonly readonly: boolean,
    /** An O_PATH fd of the Gofer's /proc/self/fd, opened before pivot_root, to reopen walked
     * files by their fd; undefined to reopen them by (parent, name). */
    private readonly procFd?: HostFd,
  ) {
    const st = fstat(rootFd);
    if (typeof st === 'number') throw new Error(`gofer: stat root: errno ${-st}`);
    if ((st.mode & S_IFMT) !== S_IFDIR) throw new Error('gofer: root is not a directory');
    this.root = new Node(rootFd, undefined, '', st.dev, st.ino, S_IFDIR);
  }

  reset(): void {
    for (const fid of [...this.fids.keys()]) this.clunkFid(fid);
  }

  /** qid.path: the inode, with the top 8 bits naming the device (so mounts inside the tree do
   * not collide). */
  qidPath(dev: bigint, ino: bigint): bigint {
    let idx = this.devs.get(dev);
    if (idx === undefined) {
      idx = BigInt(this.devs.size);
      this.devs.set(dev, idx);
    }
    return ((idx & 0xffn) << 56n) | (ino & ((1n << 56n) - 1n));
  }

  qid(st: { dev: bigint; ino: bigint; mode: number }): Qid {
    const fmt = st.mode & S_IFMT;
    const type = fmt === S_IFDIR ? QTDIR : fmt === S_IFLNK ? QTSYMLINK : QTFILE;
    return { type, version: 0, path: this.qidPath(st.dev, st.ino) };
  }

  fid(fid: number): FidState | number {
    return this.fids.get(fid) ?? -Errno.EBADF;
  }

  clunkFid(fid: number): void {
    const f = this.fids.get(fid);
    if (f === undefined) return;
    this.fids.delete(fid);
    f.open?.fd.close();
    f.node.release();
  }

  /** Opens a new node for `name` in the directory `dir` (O_PATH, never following a symlink). */
  child(dir: Node, name: string): Node | number {
    const bad = checkName(name);
    if (bad < 0) return bad;
    if (dir.fmt !== S_IFDIR) return -Errno.ENOTDIR;
    const fd = openat(dir.fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (typeof fd === 'number') return fd;
    const st = fstat(fd);
    if (typeof st === 'number') {
      fd.close();
      return st;
    }
    return new Node(fd, dir, name, st.dev, st.ino, st.mode & S_IFMT);
  }

  /** One walk step; ".." goes to the node walked from, and stays at the root. */
  private step(cur: Node, name: string): Node | number {
    if (name !== '..') return this.child(cur, name);
    if (cur.fmt !== S_IFDIR) return -Errno.ENOTDIR;
    return (cur.parent ?? cur).ref();
  }

  /** Reopens a walked node for I/O with `flags` (OPEN_PASS_FLAGS | O_TRUNC | O_NONBLOCK). */
  reopen(node: Node, flags: number): { fd: HostFd; st: HostStat } | number {
    const acc = flags & O_ACCMODE;
    if (acc === O_ACCMODE) return -Errno.EINVAL;
    if (node.fmt === S_IFDIR) {
      if (acc !== O_RDONLY || (flags & O_TRUNC) !== 0) return -Errno.EISDIR;
      const fd = openat(node.fd, '.', O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (typeof fd === 'number') return fd;
      return this.verify(node, fd);
    }
    if (node.fmt === S_IFLNK) return -Errno.ELOOP;
    if (node.fmt !== S_IFREG || node.parent === undefined) return -Errno.EPERM;
    // Through /proc/self/fd/<n> (a magic link to the walked inode itself, not to a name): still
    // right after the file was renamed. Else by (parent, name), where O_NONBLOCK keeps the open
    // from blocking if the name now names a FIFO, and verify() refuses a different inode.
    const fd =
      this.procFd !== undefined
        ? openat(
            this.procFd,
            String(node.fd.fd),
            (flags & OPEN_PASS_FLAGS) | O_CLOEXEC | O_NONBLOCK,
          )
        : openat(
            node.parent.fd,
            node.name,
            (flags & OPEN_PASS_FLAGS) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
          );
    if (typeof fd === 'number') return fd;
    const v = this.verify(node, fd);
    if (typeof v === 'number') return v;
    if ((flags & O_NONBLOCK) === 0) {
      const fl = getStatusFlags(fd);
      const r = fl < 0 ? fl : setStatusFlags(fd, fl & ~O_NONBLOCK);
      if (r < 0) {
        fd.close();
        return r;
      }
    }
    if ((flags & O_TRUNC) !== 0) {
      const r = ftruncate(fd, 0n);
      if (r < 0) {
        fd.close();
        return r;
      }
    }
    return v;
  }

  /** The reopened fd must be the walked inode (the name may have been replaced since). */
  private verify(node: Node, fd: HostFd): { fd: HostFd; st: HostStat } | number {
    const st = fstat(fd);
    if (typeof st === 'number' || st.ino !== node.ino || st.dev !== node.dev) {
      fd.close();
      return typeof st === 'number' ? st : -Errno.ESTALE;
    }
    return { fd, st };
  }

  handle(req: Msg, msize: number): HandlerReply {
    switch (req.type) {
      case 'Tattach':
        return this.attach(req);
      case 'Twalk':
        return this.walk(req);
      case 'Tgetattr':
        return this.getattr(req);
      case 'Tlopen':
        return this.lopen(req);
      case 'Tread':
        return this.read(req, msize);
      case 'Treaddir':
        return this.readdir(req, msize);
      case 'Treadlink':
        return this.readlink(req);
      case 'Tstatfs':
        return this.statfs(req);
      case 'Tclunk': {
        const f = this.fid(req.fid);
        if (typeof f === 'number') return f;
        // A Txattrcreate fid applies its value now; the fid is gone whatever the answer.
        const r = f.xattr !== undefined ? xattrCommit(this, f.node, f.xattr) : 0;
        this.clunkFid(req.fid);
        return r < 0 ? r : { msg: { type: 'Rclunk', tag: req.tag } };
      }
      // Tauth: no authentication is needed; ENOENT says so, as diod does (diodcat relies on it).
      case 'Tauth':
        return -Errno.ENOENT;
      case 'Txattrwalk':
        return xattrWalk(this, req);
      case 'Txattrcreate':
        return xattrCreate(this, req);
      case 'Tlock':
      case 'Tgetlock':
        return -Errno.EOPNOTSUPP;
      case 'Tlcreate':
      case 'Tmkdir':
      case 'Tsymlink':
      case 'Tmknod':
      case 'Tlink':
      case 'Trenameat':
      case 'Trename':
      case 'Tunlinkat':
      case 'Tremove':
      case 'Tsetattr':
      case 'Tfsync':
        return handleWrite(this, req);
      case 'Twrite': {
        // A Txattrcreate fid takes the value's bytes (refused in read-only mode already).
        const x = this.fids.get(req.fid)?.xattr;
        return x !== undefined ? xattrWrite(req, x) : handleWrite(this, req);
      }
      // Served by p9/server.ts, or replies: never a request for the file system.
      case 'Tversion':
      case 'Tflush':
      case 'Rlerror':
      case 'Rstatfs':
      case 'Rlopen':
      case 'Rlcreate':
      case 'Rsymlink':
      case 'Rmknod':
      case 'Rrename':
      case 'Rreadlink':
      case 'Rgetattr':
      case 'Rsetattr':
      case 'Rxattrwalk':
      case 'Rxattrcreate':
      case 'Rreaddir':
      case 'Rfsync':
      case 'Rlock':
      case 'Rgetlock':
      case 'Rlink':
      case 'Rmkdir':
      case 'Rrenameat':
      case 'Runlinkat':
      case 'Rversion':
      case 'Rauth':
      case 'Rattach':
      case 'Rflush':
      case 'Rwalk':
      case 'Rread':
      case 'Rwrite':
      case 'Rclunk':
      case 'Rremove':
        return -Errno.EINVAL;
    }
  }

  // Tattach: fid[4] afid[4] uname[s] aname[s] n_uname[4]. One tree: aname "" or "/".
  private attach(req: MsgOf<'Tattach'>): HandlerReply {
    if (this.fids.has(req.fid)) return -Errno.EBADF;
    if (req.aname !== '' && req.aname !== '/') return -Errno.ENOENT;
    this.uid = req.nUname === NONUNAME ? 0 : req.nUname;
    this.fids.set(req.fid, { node: this.root.ref() });
    const st = fstat(this.root.fd);
    if (typeof st === 'number') return st;
    return { msg: { type: 'Rattach', tag: req.tag, qid: this.qid(st) } };
  }

  // Twalk: fid[4] newfid[4] nwname[2] wname[s]...; Rwalk: nwqid[2] qid[13]... A partial walk
  // returns the qids walked and leaves newfid unused; an error at the first name is Rlerror.
  private walk(req: MsgOf<'Twalk'>): HandlerReply {
    const f = this.fid(req.fid);
    if (typeof f === 'number') return f;
    if (req.newfid !== req.fid && this.fids.has(req.newfid)) return -Errno.EBADF;
    if (req.newfid === req.fid && f.open !== undefined) return -Errno.EBUSY;
    let cur = f.node.ref();
    const wqids: Qid[] = [];
    for (const name of req.wnames) {
      const nx = this.step(cur, name);
      cur.release();
      if (typeof nx === 'number') {
        if (wqids.length === 0) return nx;
        return { msg: { type: 'Rwalk', tag: req.tag, wqids } };
      }
      cur = nx;
      wqids.push(this.qid({ dev: cur.dev, ino: cur.ino, mode: cur.fmt }));
    }
    if (req.newfid === req.fid) this.clunkFid(req.fid);
    this.fids.set(req.newfid, { node: cur });
    return { msg: { type: 'Rwalk', tag: req.tag, wqids } };
  }

  // Tgetattr: fid[4] request_mask[8]; we always answer P9_GETATTR_BASIC.
  private getattr(req: MsgOf<'Tgetattr'>): HandlerReply {
    const f = this.fid(req.fid);
    if (typeof f === 'number') return f;
    const st = fstat(f.node.fd);
    if (typeof st === 'number') return st;
    return {
      msg: {
        type: 'Rgetattr',
        tag: req.tag,
        valid: 0x7ffn,
        qid: this.qid(st),
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        nlink: st.nlink,
        rdev: st.rdev,
        size: st.size < 0n ? 0n : st.size,
        blksize: st.blksize < 0n ? 0n : st.blksize,
        blocks: st.blocks < 0n ? 0n : st.blocks,
        atimeSec: BigInt.asUintN(64, st.atimeSec),
        atimeNsec: BigInt.asUintN(64, st.atimeNsec),
        mtimeSec: BigInt.asUintN(64, st.mtimeSec),
        mtimeNsec: BigInt.asUintN(64, st.mtimeNsec),
        ctimeSec: BigInt.asUintN(64, st.ctimeSec),
        ctimeNsec: BigInt.asUintN(64, st.ctimeNsec),
        btimeSec: 0n,
        btimeNsec: 0n,
        gen: 0n,
        dataVersion: 0n,
      },
    };
  }

  // Tlopen: fid[4] flags[4]; Rlopen: qid[13] iounit[4], plus the host fd for regular files.
  private lopen(req: MsgOf<'Tlopen'>): HandlerReply {
    const f = this.fid(req.fid);
    if (typeof f === 'number') return f;
    if (f.open !== undefined) return -Errno.EBUSY;
    if (f.xattr !== undefined) return -Errno.EBADF;
    const wants = (req.flags & O_ACCMODE) !== O_RDONLY || (req.flags & O_TRUNC) !== 0;
    if (this.readonly && wants) return -Errno.EROFS;
    const o = this.reopen(f.node, req.flags & (OPEN_PASS_FLAGS | O_TRUNC | O_NONBLOCK));
    if (typeof o === 'number') return o;
    const dir = f.node.fmt === S_IFDIR;
    f.open = { fd: o.fd, flags: req.flags, dir };
    const msg = { type: 'Rlopen' as const, tag: req.tag, qid: this.qid(o.st), iounit: 0 };
    return dir ? { msg } : { msg, fds: [o.fd] };
  }

  // Tread: fid[4] offset[8] count[4]; Rread: count[4] data[count].
  private read(req: MsgOf<'Tread'>, msize: number): HandlerReply {
    const f = this.fid(req.fid);
    if (typeof f === 'number') return f;
    if (f.xattr !== undefined) return xattrRead(req, f.xattr, msize);
    const o = f.open;
    if (o === undefined || (o.flags & O_ACCMODE) === O_WRONLY) return -Errno.EBADF;
    if (o.dir) return -Errno.EISDIR;
    if (req.offset > BigInt(Number.MAX_SAFE_INTEGER)) return -Errno.EINVAL;
    const buf = new Uint8Array(Math.min(req.count, msize - RREAD_OVERHEAD));
    const n = pread(o.fd, buf, req.offset);
    if (n < 0) return n;
    return { msg: { type: 'Rread', tag: req.tag, data: buf.subarray(0, n) } };
  }

  // Treaddir: fid[4] offset[8] count[4]; Rreaddir: count[4] data[count]. The offset is the
  // host's d_off cookie of the last entry returned (0 to start); "." and ".." are left out.
  private readdir(req: MsgOf<'Treaddir'>, msize: number): HandlerReply {
    const f = this.fid(req.fid);
    if (typeof f === 'number') return f;
    const o = f.open;
    if (o === undefined || !o.dir) return -Errno.EBADF;
    if (req.offset >= 1n << 63n) return -Errno.EINVAL;
    const max = Math.min(req.count, msize - RREAD_OVERHEAD);
    const s = lseek(o.fd, req.offset, SEEK_SET);
    if (typeof s === 'number' && s < 0) return s;
    const out: P9Dirent[] = [];
    for (;;) {
      const ents = getdents64(o.fd, Math.max(1024, Math.min(max * 2, 65536)));
      if (typeof ents === 'number') return ents;
      if (ents.length === 0) break;
      for (const e of ents) {
        if (e.name === '.' || e.name === '..') continue;
        const type = e.type === DT_DIR ? QTDIR : e.type === DT_LNK ? QTSYMLINK : QTFILE;
        out.push({
          qid: { type, version: 0, path: this.qidPath(f.node.dev, e.ino) },
          offset: e.off,
          type: e.type,
          name: e.name,
        });
      }
      if (out.length > 0) break;
    }
    const packed = encodeDirents(out, max);
    if (packed.count === 0 && out.length > 0) return -Errno.EINVAL;
    return { msg: { type: 'Rreaddir', tag: req.tag, data: packed.data } };
  }

  // Treadlink: fid[4]; Rreadlink: target[s].
  private readlink(req: MsgOf<'Treadlink'>): HandlerReply {
    const f = this.fid(req.fid);
    if (typeof f === 'number') return f;
    if (f.node.fmt !== S_IFLNK) return -Errno.EINVAL;
    const t = readlinkat(f.node.fd, '');
    if (typeof t === 'number') return t;
    if (t.includes('\0')) return -Errno.EIO;
    return { msg: { type: 'Rreadlink', tag: req.tag, target: t } };
  }

  // Tstatfs: fid[4]; Rstatfs: type[4] bsize[4] blocks[8] bfree[8] bavail[8] files[8] ffree[8]
  // fsid[8] namelen[4].
  private statfs(req: MsgOf<'Tstatfs'>): HandlerReply {
    const f = this.fid(req.fid);
    if (typeof f === 'number') return f;
    const s = fstatfs(f.node.fd);
    if (typeof s === 'number') return s;
    const u32 = (v: bigint): number => Number(BigInt.asUintN(32, v));
    return {
      msg: {
        type: 'Rstatfs',
        tag: req.tag,
        fstype: u32(s.type),
        bsize: u32(s.bsize),
        blocks: s.blocks,
        bfree: s.bfree,
        bavail: s.bavail,
        files: s.files,
        ffree: s.ffree,
        fsid: s.fsid,
        namelen: u32(s.namelen),
      },
    };
  }
}
