// P9Client: the Sentry's synchronous 9P2000.L client (implements GoferClient, client_api.ts).
// Each call encodes one T-message, sends it on the connected socket and blocks in recvmsg(2)
// until the R-message with the same tag arrives — one request in flight, no Promise, no Node
// stream. Fds donated by the Gofer with Rlopen/Rlcreate (SCM_RIGHTS) are returned to the
// caller; fds arriving with any other reply are closed. It must never throw for anything the
// peer sends: an Rlerror becomes -ecode, and a malformed, unexpected or missing reply marks the
// channel broken, after which every call returns -EIO. Owns its fid numbers and the socket.

import { Errno } from '../abi/linux/errno.js';
import type { HostFd } from '../host/fd.js';
import type {
  GoferClient,
  P9Attr,
  P9Dirent,
  P9Open,
  P9SetAttr,
  P9StatFs,
  Qid,
} from './client_api.js';
import {
  CodecError,
  decode,
  decodeDirents,
  encode,
  NOFID,
  NOTAG,
  type Msg,
  type MsgName,
  type MsgOf,
} from './codec.js';
import { MAXWELEM, P9_IOHDRSZ } from './messages.js';
import { FrameChannel } from './transport.js';

export const P9_VERSION = '9P2000.L';
/** Tgetattr request_mask P9_GETATTR_BASIC: mode, nlink, uid, gid, rdev, times, ino, size, blocks. */
export const P9_GETATTR_BASIC = 0x7ffn;
/** Smallest msize we accept from a server. */
export const MIN_MSIZE = 4096;
export const DEFAULT_MSIZE = 1024 * 1024;

export {
  P9_ATTR_ATIME,
  P9_ATTR_ATIME_SET,
  P9_ATTR_CTIME,
  P9_ATTR_GID,
  P9_ATTR_MODE,
  P9_ATTR_MTIME,
  P9_ATTR_MTIME_SET,
  P9_ATTR_SIZE,
  P9_ATTR_UID,
  type P9SetAttr,
} from './client_api.js';

export interface P9ClientOptions {
  /** Largest frame we offer in Tversion (default 1 MiB). */
  msize?: number;
  /** Tattach's aname (default ""). */
  aname?: string;
  /** Tattach's uname (default "root") and n_uname (default 0). */
  uname?: string;
  nUname?: number;
}

type Reply<K extends MsgName> = { msg: MsgOf<K>; fds: HostFd[] };

/** How many freed fids wait before their numbers are used again. */
const FID_QUARANTINE = 64;

export class P9Client implements GoferClient {
  readonly rootFid = 0;
  private msizeNow: number;
  private readonly chan: FrameChannel;
  private broken = false;
  private nextTag = 0;
  private nextFid = 1;
  /** Freed fids, oldest first (allocFid). */
  private readonly freeFids: number[] = [];
  private readonly liveFids = new Set<number>();

  private constructor(sock: HostFd, msize: number) {
    this.chan = new FrameChannel(sock, msize);
    this.msizeNow = msize;
  }

  /** Negotiates the version and attaches. Takes ownership of `sock` (closed on failure).
   * Returns the client or -errno (-EIO if the peer is not a 9P2000.L server). */
  static connect(sock: HostFd, opts: P9ClientOptions = {}): P9Client | number {
    const c = new P9Client(sock, Math.max(opts.msize ?? DEFAULT_MSIZE, MIN_MSIZE));
    const r = c.handshake(opts);
    if (r < 0) {
      c.close();
      return r;
    }
    return c;
  }

  /** The negotiated msize. */
  get msize(): number {
    return this.msizeNow;
  }

  /** Largest count asked in one Tread/Treaddir, and data sent in one Twrite: msize -
   * P9_IOHDRSZ, as Linux's client does (diod refuses larger counts). */
  get maxRead(): number {
    return this.msizeNow - P9_IOHDRSZ;
  }
  get maxWrite(): number {
    return this.msizeNow - P9_IOHDRSZ;
  }

  /** Closes the socket; every later call returns -EIO. */
  close(): void {
    this.broken = true;
    this.chan.dropPending();
    this.chan.sock.close();
  }

  private handshake(opts: P9ClientOptions): number {
    // Tversion: msize[4] version[s], tag NOTAG.
    const v = this.rpcTagged(
      { type: 'Tversion', tag: NOTAG, msize: this.msizeNow, version: P9_VERSION },
      'Rversion',
    );
    if (typeof v === 'number') return v;
    if (v.msg.version !== P9_VERSION || v.msg.msize < MIN_MSIZE || v.msg.msize > this.msizeNow) {
      return -Errno.EIO;
    }
    this.msizeNow = v.msg.msize;
    this.chan.setMsize(this.msizeNow);
    // Tattach: fid[4] afid[4] uname[s] aname[s] n_uname[4]; no authentication (afid NOFID).
    const a = this.rpc(
      {
        type: 'Tattach',
        tag: 0,
        fid: this.rootFid,
        afid: NOFID,
        uname: opts.uname ?? 'root',
        aname: opts.aname ?? '',
        nUname: opts.nUname ?? 0,
      },
      'Rattach',
    );
    return typeof a === 'number' ? a : 0;
  }

  private fail(): number {
    this.broken = true;
    return -Errno.EIO;
  }

  private rpc<K extends MsgName>(req: Msg, expect: K): Reply<K> | number {
    this.nextTag = (this.nextTag + 1) % NOTAG;
    req.tag = this.nextTag;
    return this.rpcTagged(req, expect);
  }

  private rpcTagged<K extends MsgName>(req: Msg, expect: K): Reply<K> | number {
    if (this.broken) return -Errno.EIO;
    const frame = encode(req, this.msizeNow);
    if (frame instanceof CodecError) return -Errno.EINVAL;
    if (this.chan.write(frame) !== frame.length) return this.fail();
    const got = this.chan.read();
    if (typeof got === 'number' || got instanceof CodecError) return this.fail();
    const msg = decode(got.frame, this.msizeNow);
    if (msg instanceof CodecError || msg.tag !== req.tag) {
      for (const f of got.fds) f.close();
      return this.fail();
    }
    return this.accept(msg, got.fds, expect);
  }

  /** Checks one reply against what was expected; keeps fds only for Rlopen/Rlcreate. */
  private accept<K extends MsgName>(msg: Msg, fds: HostFd[], expect: K): Reply<K> | number {
    const keep = msg.type === 'Rlopen' || msg.type === 'Rlcreate';
    if (!keep || msg.type !== expect) for (const f of fds) f.close();
    if (msg.type === 'Rlerror') {
      // Rlerror: ecode[4]; anything outside Linux's errno range is a protocol violation.
      return msg.ecode > 0 && msg.ecode < 4096 ? -msg.ecode : this.fail();
    }
    if (msg.type !== expect) return this.fail();
    return { msg: msg as MsgOf<K>, fds: keep ? fds : [] };
  }

  /**
   * Two requests in one write, their replies matched by tag (a server may answer in either
   * order): one round trip for what would take two.
   */
  private rpcPair<A extends MsgName, B extends MsgName>(
    a: Msg,
    expectA: A,
    b: Msg,
    expectB: B,
  ): [Reply<A> | number, Reply<B> | number] | number {
    if (this.broken) return -Errno.EIO;
    this.nextTag = (this.nextTag + 1) % NOTAG;
    a.tag = this.nextTag;
    this.nextTag = (this.nextTag + 1) % NOTAG;
    b.tag = this.nextTag;
    const fa = encode(a, this.msizeNow);
    const fb = encode(b, this.msizeNow);
    if (fa instanceof CodecError || fb instanceof CodecError) return -Errno.EINVAL;
    const both = new Uint8Array(fa.length + fb.length);
    both.set(fa, 0);
    both.set(fb, fa.length);
    if (this.chan.write(both) !== both.length) return this.fail();
    let ra: Reply<A> | number | undefined;
    let rb: Reply<B> | number | undefined;
    for (let i = 0; i < 2; i++) {
      const got = this.chan.read();
      if (typeof got === 'number' || got instanceof CodecError) return this.fail();
      const msg = decode(got.frame, this.msizeNow);
      if (msg instanceof CodecError) {
        for (const f of got.fds) f.close();
        return this.fail();
      }
      if (msg.tag === a.tag && ra === undefined) ra = this.accept(msg, got.fds, expectA);
      else if (msg.tag === b.tag && rb === undefined) rb = this.accept(msg, got.fds, expectB);
      else {
        for (const f of got.fds) f.close();
        return this.fail();
      }
    }
    if (ra === undefined || rb === undefined) return this.fail();
    return [ra, rb];
  }

  /**
   * A fid number: a fresh one while few are free, else the one freed longest ago. A number
   * clunked a moment before is never reused at once: a server that serves requests on
   * several threads (diod) may not have forgotten it yet when the next request arrives.
   */
  private allocFid(): number {
    const fid =
      this.freeFids.length > FID_QUARANTINE
        ? (this.freeFids.shift() ?? this.nextFid++)
        : this.nextFid++;
    this.liveFids.add(fid);
    return fid;
  }

  private releaseFid(fid: number): void {
    if (this.liveFids.delete(fid)) this.freeFids.push(fid);
  }

  /** Twalk, split into groups of MAXWELEM names; a new fid only when every name was walked. */
  walk(fid: number, names: readonly string[]): { fid: number; qids: Qid[] } | number {
    const newfid = this.allocFid();
    const qids: Qid[] = [];
    let from = fid;
    let i = 0;
    do {
      const part = names.slice(i, i + MAXWELEM);
      const r = this.rpc({ type: 'Twalk', tag: 0, fid: from, newfid, wnames: [...part] }, 'Rwalk');
      let err = 0;
      if (typeof r === 'number') err = r;
      else if (r.msg.wqids.length > part.length || (part.length > 0 && r.msg.wqids.length === 0))
        err = this.fail();
      else if (r.msg.wqids.length !== part.length) err = -Errno.ENOENT;
      if (err < 0) {
        if (from === newfid) this.clunk(newfid);
        else this.releaseFid(newfid);
        return err;
      }
      if (typeof r !== 'number') qids.push(...r.msg.wqids);
      from = newfid;
      i += MAXWELEM;
    } while (i < names.length);
    return { fid: newfid, qids };
  }

  /**
   * Twalk of one name and Tgetattr of the new fid, pipelined in one round trip (the lookup of
   * an uncached name). A failed walk makes the getattr fail too; its error is ignored. 9P does
   * not order requests, so a getattr that failed after a good walk is sent again alone.
   */
  walkGetattr(fid: number, name: string): { fid: number; attr: P9Attr } | number {
    const newfid = this.allocFid();
    const pair = this.rpcPair(
      { type: 'Twalk', tag: 0, fid, newfid, wnames: [name] },
      'Rwalk',
      { type: 'Tgetattr', tag: 0, fid: newfid, requestMask: P9_GETATTR_BASIC },
      'Rgetattr',
    );
    if (typeof pair === 'number') {
      this.releaseFid(newfid);
      return pair;
    }
    const [w, g] = pair;
    if (typeof w === 'number' || w.msg.wqids.length !== 1) {
      this.releaseFid(newfid);
      if (typeof w === 'number') return w;
      return w.msg.wqids.length === 0 ? -Errno.ENOENT : this.fail();
    }
    if (typeof g === 'number') {
      // A server that serves requests concurrently (diod) may have run the getattr before the
      // walk made the fid: ask again, now that it exists.
      const a = this.getattr(newfid);
      if (typeof a === 'number') {
        this.clunk(newfid);
        return a;
      }
      return { fid: newfid, attr: a };
    }
    return { fid: newfid, attr: attrOf(g.msg) };
  }

  getattr(fid: number): P9Attr | number {
    const r = this.rpc(
      { type: 'Tgetattr', tag: 0, fid, requestMask: P9_GETATTR_BASIC },
      'Rgetattr',
    );
    if (typeof r === 'number') return r;
    return attrOf(r.msg);
  }

  /** Tsetattr: only the fields whose P9_ATTR_* bit is in `valid` are applied. */
  setattr(fid: number, a: P9SetAttr): number {
    const r = this.rpc(
      {
        type: 'Tsetattr',
        tag: 0,
        fid,
        valid: a.valid,
        mode: a.mode ?? 0,
        uid: a.uid ?? 0,
        gid: a.gid ?? 0,
        size: a.size ?? 0n,
        atimeSec: a.atimeSec ?? 0n,
        atimeNsec: a.atimeNsec ?? 0n,
        mtimeSec: a.mtimeSec ?? 0n,
        mtimeNsec: a.mtimeNsec ?? 0n,
      },
      'Rsetattr',
    );
    return typeof r === 'number' ? r : 0;
  }

  private opened(qid: Qid, iounit: number, fds: HostFd[]): P9Open {
    const [fd, ...extra] = fds;
    for (const f of extra) f.close();
    return fd === undefined ? { qid, iounit } : { qid, iounit, fd };
  }

  lopen(fid: number, flags: number): P9Open | number {
    const r = this.rpc({ type: 'Tlopen', tag: 0, fid, flags: flags >>> 0 }, 'Rlopen');
    if (typeof r === 'number') return r;
    return this.opened(r.msg.qid, r.msg.iounit, r.fds);
  }

  lcreate(fid: number, name: string, flags: number, mode: number, gid: number): P9Open | number {
    const r = this.rpc(
      { type: 'Tlcreate', tag: 0, fid, name, flags: flags >>> 0, mode, gid },
      'Rlcreate',
    );
    if (typeof r === 'number') return r;
    return this.opened(r.msg.qid, r.msg.iounit, r.fds);
  }

  read(fid: number, offset: bigint, count: number): Uint8Array | number {
    const n = Math.max(0, Math.min(count, this.maxRead));
    const r = this.rpc({ type: 'Tread', tag: 0, fid, offset, count: n }, 'Rread');
    if (typeof r === 'number') return r;
    if (r.msg.data.length > n) return this.fail();
    return r.msg.data;
  }

  write(fid: number, offset: bigint, data: Uint8Array): number {
    const part = data.subarray(0, this.maxWrite);
    const r = this.rpc({ type: 'Twrite', tag: 0, fid, offset, data: part }, 'Rwrite');
    if (typeof r === 'number') return r;
    if (r.msg.count > part.length) return this.fail();
    return r.msg.count;
  }

  readdir(fid: number, offset: bigint, count: number): P9Dirent[] | number {
    const n = Math.max(0, Math.min(count, this.maxRead));
    const r = this.rpc({ type: 'Treaddir', tag: 0, fid, offset, count: n }, 'Rreaddir');
    if (typeof r === 'number') return r;
    if (r.msg.data.length > n) return this.fail();
    const ents = decodeDirents(r.msg.data);
    return ents instanceof CodecError ? this.fail() : ents;
  }

  readlink(fid: number): string | number {
    const r = this.rpc({ type: 'Treadlink', tag: 0, fid }, 'Rreadlink');
    return typeof r === 'number' ? r : r.msg.target;
  }

  statfs(fid: number): P9StatFs | number {
    const r = this.rpc({ type: 'Tstatfs', tag: 0, fid }, 'Rstatfs');
    if (typeof r === 'number') return r;
    const m = r.msg;
    return {
      type: m.fstype,
      bsize: m.bsize,
      blocks: m.blocks,
      bfree: m.bfree,
      bavail: m.bavail,
      files: m.files,
      ffree: m.ffree,
      fsid: m.fsid,
      namelen: m.namelen,
    };
  }

  mkdir(dfid: number, name: string, mode: number, gid: number): Qid | number {
    const r = this.rpc({ type: 'Tmkdir', tag: 0, dfid, name, mode, gid }, 'Rmkdir');
    return typeof r === 'number' ? r : r.msg.qid;
  }

  mknod(
    dfid: number,
    name: string,
    mode: number,
    major: number,
    minor: number,
    gid: number,
  ): Qid | number {
    const r = this.rpc({ type: 'Tmknod', tag: 0, dfid, name, mode, major, minor, gid }, 'Rmknod');
    return typeof r === 'number' ? r : r.msg.qid;
  }

  symlink(dfid: number, name: string, target: string, gid: number): Qid | number {
    const r = this.rpc(
      { type: 'Tsymlink', tag: 0, fid: dfid, name, symtgt: target, gid },
      'Rsymlink',
    );
    return typeof r === 'number' ? r : r.msg.qid;
  }

  link(dfid: number, fid: number, name: string): number {
    const r = this.rpc({ type: 'Tlink', tag: 0, dfid, fid, name }, 'Rlink');
    return typeof r === 'number' ? r : 0;
  }

  renameat(olddirfid: number, oldname: string, newdirfid: number, newname: string): number {
    const r = this.rpc(
      { type: 'Trenameat', tag: 0, olddirfid, oldname, newdirfid, newname },
      'Rrenameat',
    );
    return typeof r === 'number' ? r : 0;
  }

  unlinkat(dfid: number, name: string, flags: number): number {
    const r = this.rpc({ type: 'Tunlinkat', tag: 0, dirfid: dfid, name, flags }, 'Runlinkat');
    return typeof r === 'number' ? r : 0;
  }

  fsync(fid: number, datasync = false): number {
    const r = this.rpc({ type: 'Tfsync', tag: 0, fid, datasync: datasync ? 1 : 0 }, 'Rfsync');
    return typeof r === 'number' ? r : 0;
  }

  /** Txattrwalk: a new fid holding the value of `name` ("" = the list of names); its size. */
  xattrwalk(fid: number, name: string): { fid: number; size: bigint } | number {
    const newfid = this.allocFid();
    const r = this.rpc({ type: 'Txattrwalk', tag: 0, fid, newfid, name }, 'Rxattrwalk');
    if (typeof r === 'number') {
      this.releaseFid(newfid);
      return r;
    }
    return { fid: newfid, size: r.msg.size };
  }

  /** Txattrcreate: `fid` becomes a write fid for `size` bytes, applied at its Tclunk. */
  xattrcreate(fid: number, name: string, size: bigint, flags: number): number {
    const r = this.rpc(
      { type: 'Txattrcreate', tag: 0, fid, name, attrSize: size, flags: flags >>> 0 },
      'Rxattrcreate',
    );
    return typeof r === 'number' ? r : 0;
  }

  /** Tclunk: the fid is released whatever the reply (9P semantics). */
  clunk(fid: number): number {
    const r = this.rpc({ type: 'Tclunk', tag: 0, fid }, 'Rclunk');
    this.releaseFid(fid);
    return typeof r === 'number' ? r : 0;
  }

  /** Tremove: removes the file and releases the fid whatever the reply. */
  remove(fid: number): number {
    const r = this.rpc({ type: 'Tremove', tag: 0, fid }, 'Rremove');
    this.releaseFid(fid);
    return typeof r === 'number' ? r : 0;
  }
}

/** The Sentry's view of an Rgetattr. */
function attrOf(m: MsgOf<'Rgetattr'>): P9Attr {
  return {
    qid: m.qid,
    mode: m.mode,
    uid: m.uid,
    gid: m.gid,
    nlink: m.nlink,
    rdev: m.rdev,
    size: m.size,
    blksize: m.blksize,
    blocks: m.blocks,
    atimeSec: m.atimeSec,
    atimeNsec: m.atimeNsec,
    mtimeSec: m.mtimeSec,
    mtimeNsec: m.mtimeNsec,
    ctimeSec: m.ctimeSec,
    ctimeNsec: m.ctimeNsec,
  };
}
