// The gofer file system: the container's root (and bind mounts) served by the Gofer over
// 9P2000.L, through the synchronous GoferClient interface (p9/client_api.ts) only. Each inode
// holds the fid it was walked to, with its attributes cached at walk time; directories cache
// their children, including names that do not exist (the dynamic loader probes many). Opening
// clones the fid and sends Tlopen; when the Gofer donates a host fd, reads and writes go to it
// directly (host pread/pwrite), else through Tread/Twrite. Inode numbers are qid.path; st_dev
// is this instance's own. The Sentry is the only client of this tree, so caches are trusted
// until the Sentry itself changes the file.
//
// It never throws, never follows a name outside what the Gofer walks, never opens a special
// file (FIFO, device, socket) through the Gofer, and never hands a host fd number to the
// application. At most MAX_CACHED_FIDS inodes hold a fid at once (the Gofer's descriptors are
// bounded): the least recently used give theirs back (Tclunk) and walk again from their
// parent, by their current name, when next needed; a file that is no longer there, or is now
// another file, answers ESTALE.
//
// Extended attributes go to the Gofer each time (Txattrwalk + Tread, Txattrcreate + Twrite +
// Tclunk), never cached.
//
// Differences from Linux: opening a FIFO or device node of the container's root answers EPERM
// (ENXIO for sockets); attributes are cached until the Sentry itself changes the file;
// setxattr(2) of an empty value with XATTR_REPLACE removes the attribute (9P2000.L spells
// removexattr the same way).

import { Errno } from '../../../abi/linux/errno.js';
import {
  AT_REMOVEDIR,
  DT_DIR,
  O_ACCMODE,
  O_RDONLY,
  O_DIRECTORY,
  O_TRUNC,
  O_WRONLY,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  V9FS_MAGIC,
  makeDev,
  type Stat,
  type StatFs,
} from '../../../abi/linux/file.js';
import type { HostFd } from '../../../host/fd.js';
import { hostPread, hostPwrite } from '../../../host/io.js';
import {
  P9_ATTR_ATIME,
  P9_ATTR_ATIME_SET,
  P9_ATTR_GID,
  P9_ATTR_MODE,
  P9_ATTR_MTIME,
  P9_ATTR_MTIME_SET,
  P9_ATTR_SIZE,
  P9_ATTR_UID,
  type GoferClient,
  type P9Attr,
  type P9SetAttr,
} from '../../../p9/client_api.js';
import type { Credentials } from '../../syscalls/types.js';
import { allocAnonDev } from '../../vfs/dev_numbers.js';
import type { DirEntry, FileImpl, Filesystem, Inode, SetAttr } from '../../vfs/inode.js';

/** The most bytes one Tread/Twrite asks for (the client splits by msize as well). */
const IO_MAX = 1 << 20;
/** XATTR_SIZE_MAX: the largest extended attribute value we read back. */
const XATTR_MAX = 65536;
const XATTR_REPLACE = 2;
const utf8 = new TextDecoder();
/** The byte count of one Treaddir (small enough for any msize a server accepts; diod rejects counts near msize). */
const READDIR_COUNT = 8192;
/** How many inodes may hold a walked fid at once (and with it a descriptor in the Gofer). */
export const MAX_CACHED_FIDS = 4096;

export interface GoferFsOptions {
  /** Creation answers EROFS (a read-only root). */
  readOnly?: boolean;
  /** The bound on cached fids (default MAX_CACHED_FIDS). */
  maxFids?: number;
}

export class GoferFilesystem implements Filesystem {
  readonly name = '9p';
  readonly dev = allocAnonDev();
  readonly readOnly: boolean;
  readonly maxFids: number;
  readonly root: GoferInode;
  /**
   * Attributes by file (qid.path), shared by every name of it: a change made through one hard
   * link is seen through the others, as one inode's would be.
   */
  readonly attrs = new Map<bigint, { attr: P9Attr }>();
  /** Inodes holding a fid, least recently used first (the root is never in it). */
  private readonly fidHolders = new Map<GoferInode, true>();
  /** Bounded like the fids: read-only files' shared donated fds, least recently used first. */
  readonly sharedReads = new Map<GoferInode, true>();

  /** Notes that `i` used its fid; evicts the least recently used holders beyond the bound. */
  touchFid(i: GoferInode): void {
    this.fidHolders.delete(i);
    this.fidHolders.set(i, true);
    while (this.fidHolders.size > this.maxFids) {
      const oldest = this.fidHolders.keys().next().value;
      if (oldest === undefined || oldest === i) break;
      this.fidHolders.delete(oldest);
      oldest.dropFid();
    }
  }

  /** Forgets a holder whose fid was clunked. */
  untrackFid(i: GoferInode): void {
    this.fidHolders.delete(i);
  }

  /** How many inodes hold a fid now (tests). */
  get cachedFids(): number {
    return this.fidHolders.size;
  }

  touchSharedRead(i: GoferInode): void {
    this.sharedReads.delete(i);
    this.sharedReads.set(i, true);
    while (this.sharedReads.size > this.maxFids) {
      const oldest = this.sharedReads.keys().next().value;
      if (oldest === undefined || oldest === i) break;
      this.sharedReads.delete(oldest);
      oldest.dropSharedRead();
    }
  }

  /** The shared attribute box for the file of `a`, holding the freshest attributes. */
  attrBox(a: P9Attr): { attr: P9Attr } {
    let b = this.attrs.get(a.qid.path);
    if (b === undefined) {
      b = { attr: a };
      this.attrs.set(a.qid.path, b);
    } else b.attr = a;
    return b;
  }

  private constructor(
    readonly client: GoferClient,
    rootAttr: P9Attr,
    opts: GoferFsOptions,
  ) {
    this.readOnly = opts.readOnly ?? false;
    this.maxFids = Math.max(2, opts.maxFids ?? MAX_CACHED_FIDS);
    this.root = new GoferInode(this, client.rootFid, rootAttr);
  }

  /** A file system over `client`'s attached root; -errno if the root cannot be stat'ed. */
  static create(client: GoferClient, opts: GoferFsOptions = {}): GoferFilesystem | number {
    const attr = client.getattr(client.rootFid);
    if (typeof attr === 'number') return attr;
    return new GoferFilesystem(client, attr, opts);
  }

  statfs(): StatFs | number {
    const s = this.client.statfs(this.client.rootFid);
    if (typeof s === 'number') return s;
    return {
      type: s.type !== 0 ? s.type : V9FS_MAGIC,
      bsize: s.bsize,
      blocks: s.blocks,
      bfree: s.bfree,
      bavail: s.bavail,
      files: s.files,
      ffree: s.ffree,
      fsid: s.fsid,
      namelen: s.namelen,
      frsize: s.bsize,
      flags: 0,
    };
  }
}

function attrToStat(dev: number, a: P9Attr): Stat {
  const rdevMajor = Number((a.rdev >> 8n) & 0xfffn);
  const rdevMinor = Number((a.rdev & 0xffn) | ((a.rdev >> 12n) & 0xfff00n));
  return {
    dev,
    ino: a.qid.path,
    nlink: Number(a.nlink),
    mode: a.mode,
    uid: a.uid,
    gid: a.gid,
    rdev: makeDev(rdevMajor, rdevMinor),
    size: Number(a.size),
    blksize: Number(a.blksize),
    blocks: Number(a.blocks),
    atimeSec: Number(a.atimeSec),
    atimeNsec: Number(a.atimeNsec),
    mtimeSec: Number(a.mtimeSec),
    mtimeNsec: Number(a.mtimeNsec),
    ctimeSec: Number(a.ctimeSec),
    ctimeNsec: Number(a.ctimeNsec),
  };
}

/** A read-only file's donated host fd, shared by its opens, and the fid that owns it. */
interface SharedRead {
  fd: HostFd;
  fid: number;
  /** Open descriptions using it. */
  users: number;
  /** Evicted from the inode: closed when the last user goes. */
  detached: boolean;
}

export class GoferInode implements Inode {
  /** Directories: children by name; a number is a cached negative answer (-ENOENT). */
  private readonly children = new Map<string, GoferInode | number>();
  /**
   * Mount points config.json names that the container's files lack: directories (or files)
   * that exist only in the Sentry's view, as under runc they would be made in the rootfs.
   */
  private readonly synthetic = new Map<string, Inode>();
  private target: string | null = null;
  private statCache: Stat | null = null;
  private statCacheOf: P9Attr | null = null;
  /** Read-only mounts: the donated host fd shared by every read-only open of this file. */
  private sharedRead: SharedRead | null = null;
  /** The walked fid, or -1 after it was given back (getFid walks again). */
  private fidNow: number;

  private readonly box: { attr: P9Attr };

  constructor(
    readonly fs: GoferFilesystem,
    fid: number,
    attr: P9Attr,
    /** The directory this inode was walked from (rename moves it); null for the root. */
    public parent: GoferInode | null = null,
    /** Its name in `parent` (rename changes it). */
    public name = '',
  ) {
    this.box = fs.attrBox(attr);
    this.fidNow = fid;
    if (parent !== null) fs.touchFid(this);
  }

  /** The fid, walked again from the parent if it was given back; -errno (ESTALE) if gone. */
  getFid(): number {
    const p = this.parent;
    if (p === null) return this.fidNow;
    if (this.fidNow >= 0) {
      this.fs.touchFid(this);
      return this.fidNow;
    }
    const pf = p.getFid();
    if (pf < 0) return pf;
    const w = this.client.walk(pf, [this.name]);
    if (typeof w === 'number') return w === -Errno.ENOENT ? -Errno.ESTALE : w;
    const a = this.client.getattr(w.fid);
    if (typeof a === 'number' || a.qid.path !== this.attr.qid.path) {
      this.client.clunk(w.fid);
      return typeof a === 'number' ? a : -Errno.ESTALE;
    }
    this.attr = a;
    this.fidNow = w.fid;
    this.fs.touchFid(this);
    return this.fidNow;
  }

  /** Gives the fid back to the Gofer (the cache's bound); the next use walks again. */
  dropFid(): void {
    if (this.parent === null || this.fidNow < 0) return;
    this.client.clunk(this.fidNow);
    this.fidNow = -1;
  }

  /** Lets the shared read fd go: closed now, or by its last open description. */
  dropSharedRead(): void {
    const sr = this.sharedRead;
    if (sr === null) return;
    this.sharedRead = null;
    if (sr.users === 0) closeSharedRead(this.client, sr);
    else sr.detached = true;
  }

  private get attr(): P9Attr {
    return this.box.attr;
  }

  private set attr(a: P9Attr) {
    this.box.attr = a;
  }

  get type(): number {
    return this.attr.mode & S_IFMT;
  }

  private get client(): GoferClient {
    return this.fs.client;
  }

  stat(): Stat {
    // The decoded attributes, until they change (every change goes through setAttr).
    if (this.statCache === null || this.statCacheOf !== this.attr) {
      this.statCache = attrToStat(this.fs.dev, this.attr);
      this.statCacheOf = this.attr;
    }
    return this.statCache;
  }

  /** Re-reads the attributes from the Gofer (after the Sentry changed the file). */
  /** chmod, chown, truncate, utimensat: Tsetattr, then the fresh attributes. */
  setattr(a: SetAttr): number {
    if (this.fs.readOnly) return -Errno.EROFS;
    const p: P9SetAttr = { valid: 0 };
    if (a.mode !== undefined) {
      p.valid |= P9_ATTR_MODE;
      p.mode = a.mode;
    }
    if (a.uid !== undefined) {
      p.valid |= P9_ATTR_UID;
      p.uid = a.uid;
    }
    if (a.gid !== undefined) {
      p.valid |= P9_ATTR_GID;
      p.gid = a.gid;
    }
    if (a.size !== undefined) {
      p.valid |= P9_ATTR_SIZE;
      p.size = BigInt(a.size);
    }
    if (a.atime !== undefined) {
      p.valid |= P9_ATTR_ATIME | P9_ATTR_ATIME_SET;
      p.atimeSec = BigInt(a.atime[0]);
      p.atimeNsec = BigInt(a.atime[1]);
    }
    if (a.mtime !== undefined) {
      p.valid |= P9_ATTR_MTIME | P9_ATTR_MTIME_SET;
      p.mtimeSec = BigInt(a.mtime[0]);
      p.mtimeNsec = BigInt(a.mtime[1]);
    }
    const fid = this.getFid();
    if (fid < 0) return fid;
    const r = this.client.setattr(fid, p);
    if (r < 0) return r;
    return this.refresh();
  }

  truncate(size: number): number {
    return this.setattr({ size });
  }

  /** Txattrwalk, then Tread until the size it announced; the fid is clunked. */
  private readXattr(name: string): Uint8Array | number {
    const fid = this.getFid();
    if (fid < 0) return fid;
    const w = this.client.xattrwalk(fid, name);
    if (typeof w === 'number') return w;
    const out = new Uint8Array(Number(w.size > BigInt(XATTR_MAX) ? XATTR_MAX : w.size));
    let got = 0;
    while (got < out.length) {
      const d = this.client.read(w.fid, BigInt(got), out.length - got);
      if (typeof d === 'number') {
        this.client.clunk(w.fid);
        return d;
      }
      if (d.length === 0) break;
      out.set(d.subarray(0, out.length - got), got);
      got += d.length;
    }
    this.client.clunk(w.fid);
    return out.subarray(0, got);
  }

  getxattr(name: string): Uint8Array | number {
    return this.readXattr(name);
  }

  listxattr(): string[] | number {
    const b = this.readXattr('');
    if (typeof b === 'number') return b;
    const names = utf8.decode(b).split('\0');
    names.pop(); // after the last NUL
    return names;
  }

  /** Txattrcreate on a clone, Twrite of the value, Tclunk (which answers the host's errno). */
  setxattr(name: string, value: Uint8Array, flags: number): number {
    if (this.fs.readOnly) return -Errno.EROFS;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const clone = this.client.walk(fid, []);
    if (typeof clone === 'number') return clone;
    const c = this.client.xattrcreate(clone.fid, name, BigInt(value.length), flags);
    if (c < 0) {
      this.client.clunk(clone.fid);
      return c;
    }
    for (let off = 0; off < value.length;) {
      const n = this.client.write(clone.fid, BigInt(off), value.subarray(off));
      if (n <= 0) {
        this.client.clunk(clone.fid);
        return n < 0 ? n : -Errno.EIO;
      }
      off += n;
    }
    return this.client.clunk(clone.fid);
  }

  /** Linux's v9fs spelling of removexattr: Txattrcreate of size 0 with XATTR_REPLACE. */
  removexattr(name: string): number {
    return this.setxattr(name, new Uint8Array(0), XATTR_REPLACE);
  }

  refresh(): number {
    const fid = this.getFid();
    if (fid < 0) return fid;
    const a = this.client.getattr(fid);
    if (typeof a === 'number') return a;
    this.attr = a;
    return 0;
  }

  /** The cached size in bytes. */
  sizeHint(): number {
    return Number(this.attr.size);
  }

  /** Grows the cached size after a write that reached `end`. */
  noteWrite(end: number): void {
    if (BigInt(end) > this.attr.size) this.attr = { ...this.attr, size: BigInt(end) };
  }

  /** Adds a mount point that exists only in the Sentry's view (boot, before the app runs). */
  addSynthetic(name: string, inode: Inode): number {
    if (this.type !== S_IFDIR) return -Errno.ENOTDIR;
    const r = this.lookup(name);
    if (typeof r !== 'number') return -Errno.EEXIST;
    if (r !== -Errno.ENOENT) return r;
    this.synthetic.set(name, inode);
    return 0;
  }

  lookup(name: string): Inode | number {
    if (this.type !== S_IFDIR) return -Errno.ENOTDIR;
    const syn = this.synthetic.get(name);
    if (syn !== undefined) return syn;
    const cached = this.children.get(name);
    if (cached !== undefined) return cached;
    const fid = this.getFid();
    if (fid < 0) return fid;
    let w: { fid: number; attr: P9Attr } | number;
    if (this.client.walkGetattr !== undefined) w = this.client.walkGetattr(fid, name);
    else {
      const walked = this.client.walk(fid, [name]);
      if (typeof walked === 'number') w = walked;
      else {
        const a = this.client.getattr(walked.fid);
        if (typeof a === 'number') this.client.clunk(walked.fid);
        w = typeof a === 'number' ? a : { fid: walked.fid, attr: a };
      }
    }
    if (typeof w === 'number') {
      if (w === -Errno.ENOENT) this.children.set(name, w);
      return w;
    }
    const child = new GoferInode(this.fs, w.fid, w.attr, this, name);
    this.children.set(name, child);
    return child;
  }

  readlink(): string | number {
    if (this.type !== S_IFLNK) return -Errno.EINVAL;
    if (this.target !== null) return this.target;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const t = this.client.readlink(fid);
    if (typeof t === 'number') return t;
    this.target = t;
    return t;
  }

  open(flags: number): FileImpl | number {
    const isDir = this.type === S_IFDIR;
    // Special files are never opened through the Gofer: a FIFO would block it, a device or
    // socket would reach the host's.
    if (this.type === S_IFSOCK) return -Errno.ENXIO;
    if (!isDir && this.type !== S_IFREG) return -Errno.EPERM;
    // On a read-only mount, the host fd the Gofer donated for the first read-only open of a
    // regular file serves every later one: positionless preads need no fid of their own, and
    // an open+close costs no round trip. Nothing in the sandbox can change such a file.
    const cacheable = !isDir && this.fs.readOnly && (flags & (O_ACCMODE | O_TRUNC)) === O_RDONLY;
    if (cacheable && this.sharedRead !== null) {
      this.fs.touchSharedRead(this);
      return new SharedReadFile(this.client, this.sharedRead);
    }
    const fid = this.getFid();
    if (fid < 0) return fid;
    const clone = this.client.walk(fid, []);
    if (typeof clone === 'number') return clone;
    const p9flags = (flags & (O_ACCMODE | O_TRUNC)) | (isDir ? O_DIRECTORY : 0);
    const o = this.client.lopen(clone.fid, p9flags);
    if (typeof o === 'number') {
      this.client.clunk(clone.fid);
      return o;
    }
    if ((flags & O_TRUNC) !== 0 && (flags & O_ACCMODE) !== 0)
      this.attr = { ...this.attr, size: 0n };
    if (isDir) {
      o.fd?.close();
      return new GoferDirFile(
        this.client,
        clone.fid,
        this.attr.qid.path,
        (this.parent ?? this).attr.qid.path,
        this.synthetic,
      );
    }
    if (cacheable && o.fd !== undefined) {
      // The fid stays open with the shared fd: it owns the donated fd's open file.
      this.sharedRead = { fd: o.fd, fid: clone.fid, users: 0, detached: false };
      this.fs.touchSharedRead(this);
      return new SharedReadFile(this.client, this.sharedRead);
    }
    return new GoferRegularFile(this, this.client, clone.fid, o.fd ?? null);
  }

  /**
   * The new name's inode, owned by the creator: 9P2000.L creation carries only the gid, so
   * the owner is set with Tsetattr when the Gofer made the file as someone else (the attach
   * user). A refused chown leaves the file as the Gofer made it.
   */
  private afterCreate(name: string, creds: Credentials): Inode | number {
    this.children.delete(name);
    this.refresh();
    const child = this.lookup(name);
    if (child instanceof GoferInode && child.attr.uid !== creds.euid) {
      const fid = child.getFid();
      if (fid >= 0 && this.client.setattr(fid, { valid: P9_ATTR_UID, uid: creds.euid }) === 0)
        child.refresh();
    }
    return child;
  }

  create(name: string, mode: number, creds: Credentials): Inode | number {
    if (this.fs.readOnly) return -Errno.EROFS;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const clone = this.client.walk(fid, []);
    if (typeof clone === 'number') return clone;
    const o = this.client.lcreate(clone.fid, name, O_WRONLY, mode & 0o7777, creds.egid);
    if (typeof o !== 'number') o.fd?.close();
    this.client.clunk(clone.fid);
    if (typeof o === 'number') return o;
    return this.afterCreate(name, creds);
  }

  mkdir(name: string, mode: number, creds: Credentials): Inode | number {
    if (this.fs.readOnly) return -Errno.EROFS;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const q = this.client.mkdir(fid, name, mode & 0o7777, creds.egid);
    if (typeof q === 'number') return q;
    return this.afterCreate(name, creds);
  }

  mksock(name: string, mode: number, creds: Credentials): Inode | number {
    if (this.fs.readOnly) return -Errno.EROFS;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const q = this.client.mknod(fid, name, S_IFSOCK | (mode & 0o7777), 0, 0, creds.egid);
    if (typeof q === 'number') return q;
    return this.afterCreate(name, creds);
  }

  private forget(name: string): void {
    this.children.delete(name);
    this.refresh();
  }

  unlink(name: string): number {
    if (this.fs.readOnly) return -Errno.EROFS;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const r = this.client.unlinkat(fid, name, 0);
    this.forget(name);
    return r;
  }

  rmdir(name: string): number {
    if (this.fs.readOnly) return -Errno.EROFS;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const r = this.client.unlinkat(fid, name, AT_REMOVEDIR);
    this.forget(name);
    return r;
  }

  rename(oldName: string, newDir: Inode, newName: string): number {
    if (this.fs.readOnly) return -Errno.EROFS;
    if (!(newDir instanceof GoferInode) || newDir.fs !== this.fs) return -Errno.EXDEV;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const nfid = newDir.getFid();
    if (nfid < 0) return nfid;
    const moved = this.children.get(oldName);
    const r = this.client.renameat(fid, oldName, nfid, newName);
    this.forget(oldName);
    newDir.forget(newName);
    if (r === 0 && moved instanceof GoferInode) {
      // The inode goes with its file: its fid (if any) follows it, and so must a new walk.
      moved.parent = newDir;
      moved.name = newName;
      newDir.children.set(newName, moved);
    }
    return r;
  }

  link(name: string, target: Inode): number {
    if (this.fs.readOnly) return -Errno.EROFS;
    if (!(target instanceof GoferInode) || target.fs !== this.fs) return -Errno.EXDEV;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const tfid = target.getFid();
    if (tfid < 0) return tfid;
    const r = this.client.link(fid, tfid, name);
    this.forget(name);
    target.refresh();
    return r;
  }

  symlink(name: string, target: string, creds: Credentials): Inode | number {
    if (this.fs.readOnly) return -Errno.EROFS;
    const fid = this.getFid();
    if (fid < 0) return fid;
    const q = this.client.symlink(fid, name, target, creds.egid);
    if (typeof q === 'number') return q;
    return this.afterCreate(name, creds);
  }
}

/** An open regular file (or device, socket, fifo node served by the Gofer). */
/** A read-only open of a cached regular file: preads on the shared donated host fd. */
function closeSharedRead(client: GoferClient, sr: SharedRead): void {
  sr.fd.close();
  client.clunk(sr.fid);
}

class SharedReadFile implements FileImpl {
  readonly seekable = true;
  constructor(
    private readonly client: GoferClient,
    private readonly sr: SharedRead,
  ) {
    sr.users++;
  }

  read(dst: Uint8Array, offset: number): number {
    return hostPread(this.sr.fd.fd, dst, offset);
  }

  write(): number {
    return -Errno.EBADF;
  }

  release(): void {
    this.sr.users--;
    if (this.sr.users === 0 && this.sr.detached) closeSharedRead(this.client, this.sr);
  }
}

class GoferRegularFile implements FileImpl {
  readonly seekable = true;
  constructor(
    private readonly inode: GoferInode,
    private readonly client: GoferClient,
    private readonly fid: number,
    private readonly host: HostFd | null,
  ) {}

  read(dst: Uint8Array, offset: number): number {
    const host = this.host;
    if (host !== null) return hostPread(host.fd, dst, offset);
    let done = 0;
    while (done < dst.length) {
      const want = Math.min(dst.length - done, IO_MAX);
      const r = this.client.read(this.fid, BigInt(offset + done), want);
      if (typeof r === 'number') return done > 0 ? done : r;
      if (r.length === 0) break;
      dst.set(r.subarray(0, want), done);
      done += Math.min(r.length, want);
      // The client may clamp a read to its msize: a short reply ends the read only at the
      // (cached) end of file.
      if (r.length < want && offset + done >= this.inode.sizeHint()) break;
    }
    return done;
  }

  write(src: Uint8Array, offset: number): number {
    let n: number;
    const host = this.host;
    if (host !== null) n = hostPwrite(host.fd, src, offset);
    else {
      n = 0;
      while (n < src.length) {
        const chunk = src.subarray(n, n + IO_MAX);
        const w = this.client.write(this.fid, BigInt(offset + n), chunk);
        if (w < 0) {
          if (n === 0) return w;
          break;
        }
        if (w === 0) break;
        n += w;
      }
    }
    if (n > 0) this.inode.noteWrite(offset + n);
    return n;
  }

  sync(): number {
    return this.client.fsync(this.fid);
  }

  release(): void {
    this.host?.close();
    this.client.clunk(this.fid);
  }
}

/**
 * An open directory: reads the whole listing at position 0 and serves positions from it. "."
 * and ".." come first, made here (servers differ on whether they send them).
 */
class GoferDirFile implements FileImpl {
  readonly seekable = true;
  private entries: DirEntry[] | null = null;

  constructor(
    private readonly client: GoferClient,
    private readonly fid: number,
    private readonly ino: bigint,
    private readonly parentIno: bigint,
    private readonly synthetic: ReadonlyMap<string, Inode>,
  ) {}

  read(): number {
    return -Errno.EISDIR;
  }

  write(): number {
    return -Errno.EISDIR;
  }

  private fill(): DirEntry[] | number {
    const out: DirEntry[] = [
      { ino: this.ino, type: DT_DIR, name: '.', next: 1 },
      { ino: this.parentIno, type: DT_DIR, name: '..', next: 2 },
    ];
    let off = 0n;
    for (;;) {
      const batch = this.client.readdir(this.fid, off, READDIR_COUNT);
      if (typeof batch === 'number') return batch;
      if (batch.length === 0) {
        for (const [name, inode] of this.synthetic) {
          const st = inode.stat();
          const ino = typeof st === 'number' ? 0n : st.ino;
          out.push({ ino, type: (inode.type >> 12) & 0xf, name, next: out.length + 1 });
        }
        return out;
      }
      for (const d of batch) {
        off = d.offset;
        // "." and ".." are ours; a name no Linux directory can hold is the Gofer's error.
        if (d.name === '.' || d.name === '..' || d.name.length === 0) continue;
        if (d.name.includes('/') || d.name.includes('\0')) continue;
        out.push({ ino: d.qid.path, type: d.type, name: d.name, next: out.length + 1 });
      }
    }
  }

  readdir(pos: number): DirEntry[] | number {
    if (pos === 0 || this.entries === null) {
      const e = this.fill();
      if (typeof e === 'number') return e;
      this.entries = e;
    }
    return this.entries.slice(pos);
  }

  release(): void {
    this.client.clunk(this.fid);
  }
}
