// tmpfs: an in-memory file system of regular files, directories, symbolic links and device
// nodes whose open files come from a caller-given factory (the dev set uses these). Used for
// /tmp and /dev, and as the vfs unit tests' file system. State lives in the inode objects and
// is owned by the file system instance; nothing touches the host. Extended attributes of the
// user., trusted. and security. namespaces are kept per inode, in memory. Never throws.

import { Errno } from '../../../abi/linux/errno.js';
import {
  DT_DIR,
  O_ACCMODE,
  O_NONBLOCK,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFSOCK,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  TMPFS_MAGIC,
  dtFromMode,
  type Stat,
  type StatFs,
} from '../../../abi/linux/file.js';
import type { Credentials } from '../../syscalls/types.js';
import { allocAnonDev } from '../../vfs/dev_numbers.js';
import { Pipe, bothEnds, readEnd, writeEnd } from '../pipe/pipe.js';
import type { DirEntry, FileImpl, Filesystem, Inode, SetAttr } from '../../vfs/inode.js';
import { emptyStatfs } from '../../vfs/statfs.js';
import { MemoryFile } from '../../mm/memory_file.js';
import { PageCache, type Mappable } from '../../mm/page_cache.js';

/** The extended attribute namespaces Linux's tmpfs keeps (system.* ACLs it maps to modes). */
const XATTR_NAMESPACES = ['user.', 'trusted.', 'security.'];
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

/** The largest tmpfs file we hold (1 GiB): writes beyond answer EFBIG. */
/** The largest file (Linux's tmpfs: MAX_LFS_FILESIZE; ours: what a JS number holds exactly). */
const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

function now(): { sec: number; nsec: number } {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

export interface TmpfsOptions {
  name?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** size=: the most bytes of file data, in whole pages (default: no limit). */
  sizeBytes?: number;
  /** nr_inodes=: the most inodes, the root included (default: no limit). */
  maxInodes?: number;
}

export class TmpfsFilesystem implements Filesystem {
  readonly name: string;
  readonly dev: number;
  readonly root: TmpfsDir;
  private nextIno = 1n;
  /** Pages of file data the mount may hold, and holds (size=). */
  readonly maxPages: number;
  usedPages = 0;
  /** Inodes the mount may hold, and holds (nr_inodes=). */
  readonly maxInodes: number;
  inodes = 0;

  constructor(opts: TmpfsOptions = {}) {
    this.name = opts.name ?? 'tmpfs';
    this.dev = allocAnonDev();
    this.maxPages =
      opts.sizeBytes === undefined ? Infinity : Math.max(0, Math.floor(opts.sizeBytes / PAGE));
    this.maxInodes = opts.maxInodes ?? Infinity;
    this.root = new TmpfsDir(
      this,
      S_IFDIR | (opts.mode ?? 0o1777),
      opts.uid ?? 0,
      opts.gid ?? 0,
      null,
    );
  }

  allocIno(): bigint {
    return this.nextIno++;
  }

  /** Takes `pages` more pages of file data; false (nothing taken) past size=. */
  charge(pages: number): boolean {
    if (pages <= 0) {
      this.usedPages += pages;
      return true;
    }
    if (this.usedPages + pages > this.maxPages) return false;
    this.usedPages += pages;
    return true;
  }

  /** Pages still free (Infinity without size=). */
  freePages(): number {
    return this.maxPages - this.usedPages;
  }

  statfs(): StatFs {
    const s = emptyStatfs(TMPFS_MAGIC);
    if (Number.isFinite(this.maxPages)) {
      s.blocks = BigInt(this.maxPages);
      s.bfree = BigInt(Math.max(0, this.maxPages - this.usedPages));
      s.bavail = s.bfree;
    }
    if (Number.isFinite(this.maxInodes)) {
      s.files = BigInt(this.maxInodes);
      s.ffree = BigInt(Math.max(0, this.maxInodes - this.inodes));
    }
    return s;
  }
}

const PAGE = 4096;

function pagesOf(bytes: number): number {
  return Math.ceil(bytes / PAGE);
}

export abstract class TmpfsInode implements Inode {
  readonly ino: bigint;
  mode: number;
  uid: number;
  gid: number;
  nlink = 1;
  rdev = 0;
  atime = now();
  mtime = now();
  ctime = now();
  private xattrs: Map<string, Uint8Array> | null = null;

  constructor(
    readonly fs: TmpfsFilesystem,
    mode: number,
    uid: number,
    gid: number,
  ) {
    this.ino = fs.allocIno();
    fs.inodes++;
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
  }

  get type(): number {
    return this.mode & S_IFMT;
  }

  size(): number {
    return 0;
  }

  /** st_blocks in 512-byte units: whole pages for file data, none otherwise (as tmpfs). */
  blocks(): number {
    return 0;
  }

  stat(): Stat {
    const size = this.size();
    return {
      dev: this.fs.dev,
      ino: this.ino,
      nlink: this.nlink,
      mode: this.mode,
      uid: this.uid,
      gid: this.gid,
      rdev: this.rdev,
      size,
      blksize: 4096,
      blocks: this.blocks(),
      atimeSec: this.atime.sec,
      atimeNsec: this.atime.nsec,
      mtimeSec: this.mtime.sec,
      mtimeNsec: this.mtime.nsec,
      ctimeSec: this.ctime.sec,
      ctimeNsec: this.ctime.nsec,
    };
  }

  touch(): void {
    this.mtime = now();
    this.ctime = this.mtime;
  }

  setattr(a: SetAttr): number {
    if (a.size !== undefined) {
      if (!(this instanceof TmpfsFile)) return -Errno.EINVAL;
      const r = this.truncate(a.size);
      if (r < 0) return r;
    }
    if (a.mode !== undefined) this.mode = a.mode;
    if (a.uid !== undefined) this.uid = a.uid;
    if (a.gid !== undefined) this.gid = a.gid;
    if (a.atime !== undefined) this.atime = { sec: a.atime[0], nsec: a.atime[1] };
    if (a.mtime !== undefined) this.mtime = { sec: a.mtime[0], nsec: a.mtime[1] };
    this.ctime = now();
    return 0;
  }

  /** Extended attributes (user.*, trusted.*, security.*), in memory; values are copies. */
  getxattr(name: string): Uint8Array | number {
    if (!XATTR_NAMESPACES.some((ns) => name.startsWith(ns))) return -Errno.EOPNOTSUPP;
    return this.xattrs?.get(name) ?? -Errno.ENODATA;
  }

  listxattr(): string[] {
    return [...(this.xattrs?.keys() ?? [])];
  }

  setxattr(name: string, value: Uint8Array, flags: number): number {
    if (!XATTR_NAMESPACES.some((ns) => name.startsWith(ns))) return -Errno.EOPNOTSUPP;
    const has = this.xattrs?.has(name) ?? false;
    if ((flags & XATTR_CREATE) !== 0 && has) return -Errno.EEXIST;
    if ((flags & XATTR_REPLACE) !== 0 && !has) return -Errno.ENODATA;
    this.xattrs ??= new Map();
    this.xattrs.set(name, value.slice());
    this.ctime = now();
    return 0;
  }

  removexattr(name: string): number {
    if (!XATTR_NAMESPACES.some((ns) => name.startsWith(ns))) return -Errno.EOPNOTSUPP;
    if (this.xattrs?.delete(name) !== true) return -Errno.ENODATA;
    this.ctime = now();
    return 0;
  }

  abstract open(flags: number, creds: Credentials): FileImpl | number;
}

/** memfd seals (fcntl F_ADD_SEALS). */
export const F_SEAL_SEAL = 1;
export const F_SEAL_SHRINK = 2;
export const F_SEAL_GROW = 4;
export const F_SEAL_WRITE = 8;
export const F_SEAL_FUTURE_WRITE = 16;

/**
 * A regular file: its bytes are pages of the sandbox's memory file (a PageCache), which is
 * also what a mapping of it maps, so read/write and MAP_SHARED mappings see the same bytes.
 */
export class TmpfsFile extends TmpfsInode implements Mappable {
  readonly cache = new PageCache(MemoryFile.shared());
  private len = 0;

  constructor(fs: TmpfsFilesystem, mode: number, uid: number, gid: number) {
    super(fs, mode, uid, gid);
    // size= counts the pages that hold data (a sparse file costs what it holds).
    this.cache.limiter = fs;
  }
  /** Open descriptions: an unlinked file keeps its pages until the last one closes. */
  private opens = 0;
  /** Mappings (any), and shared ones that may write (F_SEAL_WRITE is refused while any). */
  private mappings = 0;
  private sharedWriteMappings = 0;
  private freed = false;
  /** memfd seals; files made by open(2) can never be sealed (F_SEAL_SEAL from birth). */
  seals = F_SEAL_SEAL;

  /** Gives the pages and the inode back once no name, description or mapping holds the file. */
  maybeFree(): void {
    if (this.nlink > 0 || this.opens > 0 || this.mappings > 0 || this.freed) return;
    this.freed = true;
    this.fs.inodes--;
    this.cache.clear();
    this.len = 0;
  }

  attach(sharedWrite: boolean): void {
    this.mappings++;
    if (sharedWrite) this.sharedWriteMappings++;
  }

  detach(sharedWrite: boolean): void {
    this.mappings--;
    if (sharedWrite) this.sharedWriteMappings--;
    this.maybeFree();
  }

  /** F_ADD_SEALS: 0, -EPERM when sealed against sealing, -EBUSY for a write seal while mapped. */
  addSeals(add: number): number {
    if ((this.seals & F_SEAL_SEAL) !== 0) return -Errno.EPERM;
    if ((add & F_SEAL_WRITE) !== 0 && this.sharedWriteMappings > 0) return -Errno.EBUSY;
    this.seals |= add;
    return 0;
  }

  /** Whether a new shared writable mapping is allowed (no write seal). */
  mayMapShared(): boolean {
    return (this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) === 0;
  }

  override size(): number {
    return this.len;
  }

  override blocks(): number {
    return this.cache.count * 8;
  }

  truncate(size: number): number {
    if (size < 0) return -Errno.EINVAL;
    if (size > MAX_FILE_SIZE) return -Errno.EFBIG;
    if (size < this.len && (this.seals & F_SEAL_SHRINK) !== 0) return -Errno.EPERM;
    if (size > this.len && (this.seals & F_SEAL_GROW) !== 0) return -Errno.EPERM;
    if (size < this.len) {
      this.cache.dropFrom(pagesOf(size));
      this.cache.zeroRange(size, pagesOf(size) * PAGE - size);
    }
    this.len = size;
    this.touch();
    return 0;
  }

  punchHole(offset: number, length: number): number {
    if ((this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) return -Errno.EPERM;
    const end = Math.min(this.len, offset + length);
    if (offset < end) {
      const firstWhole = pagesOf(offset);
      const lastWhole = Math.floor(end / PAGE);
      if (firstWhole < lastWhole) {
        this.cache.zeroRange(offset, firstWhole * PAGE - offset);
        this.cache.drop(firstWhole, lastWhole - firstWhole);
        this.cache.zeroRange(lastWhole * PAGE, end - lastWhole * PAGE);
      } else this.cache.zeroRange(offset, end - offset);
    }
    this.touch();
    return 0;
  }

  readAt(dst: Uint8Array, offset: number): number {
    if (offset >= this.len) return 0;
    const n = Math.min(dst.length, this.len - offset);
    return this.cache.read(dst.subarray(0, n), offset);
  }

  writeAt(src: Uint8Array, offset: number): number {
    if (src.length === 0) return 0;
    if ((this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) return -Errno.EPERM;
    if (offset >= MAX_FILE_SIZE) return -Errno.EFBIG;
    let n = Math.min(src.length, MAX_FILE_SIZE - offset);
    if (offset + n > this.len && (this.seals & F_SEAL_GROW) !== 0) {
      n = Math.max(0, this.len - offset);
      if (n === 0) return -Errno.EPERM;
    }
    // size=: write what fits in the pages left, ENOSPC when nothing does.
    let r = this.cache.write(src.subarray(0, n), offset);
    if (r < 0) {
      let done = 0;
      while (done < n) {
        const step = Math.min(n - done, PAGE - ((offset + done) % PAGE));
        r = this.cache.write(src.subarray(done, done + step), offset + done);
        if (r < 0) break;
        done += step;
      }
      if (done === 0) return -Errno.ENOSPC;
      n = done;
    }
    if (offset + n > this.len) this.len = offset + n;
    this.touch();
    return n;
  }

  open(flags: number): FileImpl | number {
    if ((flags & O_TRUNC) !== 0 && (flags & O_ACCMODE) !== O_RDONLY) {
      const r = this.truncate(0);
      if (r < 0) return r;
    }
    this.opens++;
    return {
      seekable: true,
      read: (dst, off) => this.readAt(dst, off),
      write: (src, off) => this.writeAt(src, off),
      release: () => {
        this.opens--;
        this.maybeFree();
      },
    };
  }
}

export class TmpfsSymlink extends TmpfsInode {
  constructor(
    fs: TmpfsFilesystem,
    readonly target: string,
    uid: number,
    gid: number,
  ) {
    super(fs, S_IFLNK | 0o777, uid, gid);
  }

  override size(): number {
    return Buffer.byteLength(this.target, 'utf8');
  }

  readlink(): string {
    return this.target;
  }

  open(): number {
    return -Errno.ELOOP;
  }
}

/**
 * A named pipe. Difference from Linux: opening never waits for the other end (a read end
 * opened first reads end-of-file until a writer comes); O_WRONLY|O_NONBLOCK with no reader
 * answers ENXIO as in Linux.
 */
export class TmpfsFifo extends TmpfsInode {
  private readonly pipe = new Pipe(0, 0);

  open(flags: number): FileImpl | number {
    const acc = flags & O_ACCMODE;
    if (acc === O_RDONLY) {
      this.pipe.readers++;
      return readEnd(this.pipe);
    }
    if (acc === O_WRONLY) {
      if ((flags & O_NONBLOCK) !== 0 && this.pipe.readers === 0) return -Errno.ENXIO;
      this.pipe.writers++;
      return writeEnd(this.pipe);
    }
    this.pipe.readers++;
    this.pipe.writers++;
    return bothEnds(this.pipe);
  }
}

/** A socket node (bind(2) of a Unix socket, mknod(2) with S_IFSOCK): it cannot be opened. */
export class TmpfsSocketNode extends TmpfsInode {
  open(): number {
    return -Errno.ENXIO;
  }
}

/** Makes the open file of a device node. */
export type DeviceOpener = (flags: number) => FileImpl | number;

export class TmpfsDevice extends TmpfsInode {
  constructor(
    fs: TmpfsFilesystem,
    mode: number,
    rdev: number,
    private readonly opener: DeviceOpener,
  ) {
    super(fs, mode, 0, 0);
    this.rdev = rdev;
  }

  open(flags: number): FileImpl | number {
    return this.opener(flags);
  }
}

export class TmpfsDir extends TmpfsInode {
  readonly children = new Map<string, TmpfsInode>();

  constructor(
    fs: TmpfsFilesystem,
    mode: number,
    uid: number,
    gid: number,
    public parent: TmpfsDir | null,
  ) {
    super(fs, mode, uid, gid);
    this.nlink = 2;
  }

  lookup(name: string): Inode | number {
    return this.children.get(name) ?? -Errno.ENOENT;
  }

  /** Each name's position in listings: increasing with insertion, never reused. */
  private readonly cookies = new Map<string, number>();
  private nextCookie = 2;

  private put(name: string, child: TmpfsInode): void {
    this.children.set(name, child);
    this.cookies.set(name, this.nextCookie++);
  }

  private drop(name: string): void {
    this.children.delete(name);
    this.cookies.delete(name);
  }

  private add(name: string, child: TmpfsInode): TmpfsInode | number {
    if (this.children.has(name)) return -Errno.EEXIST;
    this.put(name, child);
    this.touch();
    return child;
  }

  create(name: string, mode: number, creds: Credentials): Inode | number {
    if (this.children.has(name)) return -Errno.EEXIST;
    if (this.fs.inodes >= this.fs.maxInodes) return -Errno.ENOSPC;
    return this.add(
      name,
      new TmpfsFile(this.fs, S_IFREG | (mode & 0o7777), creds.euid, creds.egid),
    );
  }

  mkdir(name: string, mode: number, creds: Credentials): Inode | number {
    if (this.children.has(name)) return -Errno.EEXIST;
    if (this.fs.inodes >= this.fs.maxInodes) return -Errno.ENOSPC;
    const d = new TmpfsDir(this.fs, S_IFDIR | (mode & 0o7777), creds.euid, creds.egid, this);
    this.nlink++;
    return this.add(name, d);
  }

  symlink(name: string, target: string, creds: Credentials): Inode | number {
    if (this.children.has(name)) return -Errno.EEXIST;
    if (this.fs.inodes >= this.fs.maxInodes) return -Errno.ENOSPC;
    return this.add(name, new TmpfsSymlink(this.fs, target, creds.euid, creds.egid));
  }

  mkfifo(name: string, mode: number, creds: Credentials): Inode | number {
    if (this.children.has(name)) return -Errno.EEXIST;
    if (this.fs.inodes >= this.fs.maxInodes) return -Errno.ENOSPC;
    return this.add(
      name,
      new TmpfsFifo(this.fs, S_IFIFO | (mode & 0o7777), creds.euid, creds.egid),
    );
  }

  mksock(name: string, mode: number, creds: Credentials): Inode | number {
    if (this.children.has(name)) return -Errno.EEXIST;
    if (this.fs.inodes >= this.fs.maxInodes) return -Errno.ENOSPC;
    return this.add(
      name,
      new TmpfsSocketNode(this.fs, S_IFSOCK | (mode & 0o7777), creds.euid, creds.egid),
    );
  }

  /** Adds a character device node whose opens call `opener`. */
  mknodChar(name: string, mode: number, rdev: number, opener: DeviceOpener): Inode | number {
    if (this.children.has(name)) return -Errno.EEXIST;
    if (this.fs.inodes >= this.fs.maxInodes) return -Errno.ENOSPC;
    return this.add(name, new TmpfsDevice(this.fs, S_IFCHR | (mode & 0o7777), rdev, opener));
  }

  /** Removes the non-directory `name`. */
  unlink(name: string): number {
    const c = this.children.get(name);
    if (c === undefined) return -Errno.ENOENT;
    if (c instanceof TmpfsDir) return -Errno.EISDIR;
    c.nlink--;
    c.ctime = now();
    this.drop(name);
    this.touch();
    if (c instanceof TmpfsFile) c.maybeFree();
    else if (c.nlink === 0) this.fs.inodes--;
    return 0;
  }

  /** Removes the empty directory `name`. */
  rmdir(name: string): number {
    const c = this.children.get(name);
    if (c === undefined) return -Errno.ENOENT;
    if (!(c instanceof TmpfsDir)) return -Errno.ENOTDIR;
    if (c.children.size > 0) return -Errno.ENOTEMPTY;
    this.drop(name);
    this.nlink--;
    c.nlink = 0;
    c.parent = null;
    this.fs.inodes--;
    this.touch();
    return 0;
  }

  rename(oldName: string, newDir: Inode, newName: string): number {
    if (!(newDir instanceof TmpfsDir) || newDir.fs !== this.fs) return -Errno.EXDEV;
    const c = this.children.get(oldName);
    if (c === undefined) return -Errno.ENOENT;
    const victim = newDir.children.get(newName);
    if (victim === c) return 0;
    if (victim !== undefined) {
      const r = victim instanceof TmpfsDir ? newDir.rmdir(newName) : newDir.unlink(newName);
      if (r < 0) return r;
    }
    this.drop(oldName);
    newDir.put(newName, c);
    if (c instanceof TmpfsDir) {
      c.parent = newDir;
      this.nlink--;
      newDir.nlink++;
    }
    c.ctime = now();
    this.touch();
    newDir.touch();
    return 0;
  }

  link(name: string, target: Inode): number {
    if (!(target instanceof TmpfsInode) || target.fs !== this.fs) return -Errno.EXDEV;
    if (target instanceof TmpfsDir) return -Errno.EPERM;
    const r = this.add(name, target);
    if (typeof r === 'number') return r;
    target.nlink++;
    target.ctime = now();
    return 0;
  }

  /** Linux tmpfs counts 20 bytes per entry, "." and ".." included. */
  override size(): number {
    return 20 * (this.children.size + 2);
  }

  open(): FileImpl {
    return {
      seekable: true,
      read: () => -Errno.EISDIR,
      write: () => -Errno.EISDIR,
      readdir: (pos) => this.entries(pos),
      release: () => undefined,
    };
  }

  /**
   * Position 0 is ".", 1 is "..", then each child at its cookie, in insertion order, so that
   * removing entries while listing (rm -r) skips nothing.
   */
  private entries(pos: number): DirEntry[] {
    const out: DirEntry[] = [];
    if (pos <= 0) out.push({ ino: this.ino, type: DT_DIR, name: '.', next: 1 });
    if (pos <= 1) out.push({ ino: (this.parent ?? this).ino, type: DT_DIR, name: '..', next: 2 });
    for (const [name, c] of this.children) {
      const cookie = this.cookies.get(name) ?? 0;
      if (cookie >= pos) out.push({ ino: c.ino, type: dtFromMode(c.mode), name, next: cookie + 1 });
    }
    return out;
  }
}

/** A size as tmpfs(5) writes it: bytes, with k/m/g/t, or a percentage of `total`. */
function parseTmpfsSize(v: string, total: number, percent: boolean): number | undefined {
  const m = /^(\d+)([kKmMgGtT%]?)$/.exec(v);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  if (unit === '%') return percent ? Math.floor((total * n) / 100) : undefined;
  const mult = { '': 1, k: 1 << 10, m: 1 << 20, g: 1 << 30, t: 2 ** 40 }[unit];
  return mult === undefined ? undefined : n * mult;
}

/**
 * The tmpfs options of a mount's option list: mode=, size= and nr_inodes=, with Linux's
 * defaults (half of the memory for size, half of its pages for inodes); a string naming the
 * bad option when one cannot be read.
 */
export function tmpfsOptions(opts: readonly string[], memTotal: number): TmpfsOptions | string {
  const out: TmpfsOptions = {
    sizeBytes: Math.floor(memTotal / 2),
    maxInodes: Math.floor(memTotal / PAGE / 2),
  };
  for (const o of opts) {
    const [k, v = ''] = o.split('=', 2);
    if (k === 'mode') {
      const mode = parseInt(v, 8);
      if (!/^[0-7]+$/.test(v)) return o;
      out.mode = mode & 0o7777;
    } else if (k === 'size') {
      const n = parseTmpfsSize(v, memTotal, true);
      if (n === undefined) return o;
      out.sizeBytes = n === 0 ? Infinity : n;
    } else if (k === 'nr_inodes') {
      const n = parseTmpfsSize(v, 0, false);
      if (n === undefined) return o;
      out.maxInodes = n === 0 ? Infinity : n;
    }
  }
  if (out.sizeBytes === Infinity) delete out.sizeBytes;
  if (out.maxInodes === Infinity) delete out.maxInodes;
  return out;
}
