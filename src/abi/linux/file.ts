// Linux file ABI for x86-64: open flags, AT_* flags, S_IF* mode bits, DT_* types, fcntl and
// ioctl numbers, and the byte layouts of struct stat, struct statx, struct statfs and
// linux_dirent64 with their encoders. Pure data and pure functions: never imports anything
// of the Sentry, never throws on well-typed input.

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;

/** Flags that F_SETFL may change (Linux's SETFL_MASK). */
export const SETFL_MASK = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EACCESS = 0x200;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_STATX_SYNC_TYPE = 0x6000;

export const PATH_MAX = 4096;
export const NAME_MAX = 255;
/** Linux's MAX_RW_COUNT: INT_MAX rounded down to a page. */
export const MAX_RW_COUNT = 0x7ffff000;
export const UIO_MAXIOV = 1024;

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;

export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;

/** The DT_* type of an S_IF* mode. */
export function dtFromMode(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}

export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;
export const F_OK = 0;

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_DUPFD_CLOEXEC = 1030;
export const FD_CLOEXEC = 1;

export const CLOSE_RANGE_UNSHARE = 1 << 1;
export const CLOSE_RANGE_CLOEXEC = 1 << 2;

export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
export const TCSETSW = 0x5403;
export const TCSETSF = 0x5404;
export const TIOCGPGRP = 0x540f;
export const TIOCSPGRP = 0x5410;
export const TIOCGWINSZ = 0x5413;
export const TIOCSWINSZ = 0x5414;
export const FIONREAD = 0x541b;
export const FIONBIO = 0x5421;
export const FIONCLEX = 0x5450;
export const FIOCLEX = 0x5451;

export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const POLLRDNORM = 0x40;
export const POLLWRNORM = 0x100;
export const POLLWRBAND = 0x200;
export const POLLRDHUP = 0x2000;

/** Bytes a pipe write moves atomically. */
export const PIPE_BUF = 4096;

/** Magic numbers of struct statfs f_type. */
export const TMPFS_MAGIC = 0x01021994;
export const V9FS_MAGIC = 0x01021997;
export const DEVPTS_SUPER_MAGIC = 0x1cd1;
export const ANON_INODE_FS_MAGIC = 0x09041934;
export const PIPEFS_MAGIC = 0x50495045;
export const PROC_SUPER_MAGIC = 0x9fa0;

/** A file's attributes as the Sentry keeps them; encoded as struct stat or struct statx. */
export interface Stat {
  dev: number;
  ino: bigint;
  nlink: number;
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
}

/** struct stat is 144 bytes on x86-64. */
export const SIZEOF_STAT = 144;

/** Encodes struct stat exactly as x86-64 Linux lays it out. */
export function encodeStat(s: Stat): Uint8Array {
  const b = new Uint8Array(SIZEOF_STAT);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(s.dev), true);
  v.setBigUint64(8, s.ino, true);
  v.setBigUint64(16, BigInt(s.nlink), true);
  v.setUint32(24, s.mode >>> 0, true);
  v.setUint32(28, s.uid >>> 0, true);
  v.setUint32(32, s.gid >>> 0, true);
  v.setBigUint64(40, BigInt(s.rdev), true);
  v.setBigInt64(48, BigInt(s.size), true);
  v.setBigInt64(56, BigInt(s.blksize), true);
  v.setBigInt64(64, BigInt(s.blocks), true);
  v.setBigInt64(72, BigInt(s.atimeSec), true);
  v.setBigInt64(80, BigInt(s.atimeNsec), true);
  v.setBigInt64(88, BigInt(s.mtimeSec), true);
  v.setBigInt64(96, BigInt(s.mtimeNsec), true);
  v.setBigInt64(104, BigInt(s.ctimeSec), true);
  v.setBigInt64(112, BigInt(s.ctimeNsec), true);
  return b;
}

export const STATX_TYPE = 0x1;
export const STATX_MODE = 0x2;
export const STATX_NLINK = 0x4;
export const STATX_UID = 0x8;
export const STATX_GID = 0x10;
export const STATX_ATIME = 0x20;
export const STATX_MTIME = 0x40;
export const STATX_CTIME = 0x80;
export const STATX_INO = 0x100;
export const STATX_SIZE = 0x200;
export const STATX_BLOCKS = 0x400;
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const STATX__RESERVED = 0x80000000;

/** struct statx is 256 bytes. */
export const SIZEOF_STATX = 256;

/** Linux's device number encoding (new_encode_dev / MAJOR / MINOR). */
export function devMajor(dev: number): number {
  return ((dev >>> 8) & 0xfff) >>> 0;
}
export function devMinor(dev: number): number {
  return ((dev & 0xff) | ((dev >>> 12) & 0xfff00)) >>> 0;
}
export function makeDev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

/** Encodes struct statx with the basic stats (mask STATX_BASIC_STATS; no birth time). */
export function encodeStatx(s: Stat, mntId: number): Uint8Array {
  const b = new Uint8Array(SIZEOF_STATX);
  const v = new DataView(b.buffer);
  v.setUint32(0, STATX_BASIC_STATS, true);
  v.setUint32(4, s.blksize >>> 0, true);
  v.setBigUint64(8, 0n, true);
  v.setUint32(16, s.nlink >>> 0, true);
  v.setUint32(20, s.uid >>> 0, true);
  v.setUint32(24, s.gid >>> 0, true);
  v.setUint16(28, s.mode & 0xffff, true);
  v.setBigUint64(32, s.ino, true);
  v.setBigUint64(40, BigInt(s.size), true);
  v.setBigUint64(48, BigInt(s.blocks), true);
  v.setBigUint64(56, 0n, true);
  const ts = (off: number, sec: number, nsec: number): void => {
    v.setBigInt64(off, BigInt(sec), true);
    v.setUint32(off + 8, nsec >>> 0, true);
  };
  ts(64, s.atimeSec, s.atimeNsec);
  ts(96, s.ctimeSec, s.ctimeNsec);
  ts(112, s.mtimeSec, s.mtimeNsec);
  v.setUint32(128, devMajor(s.rdev), true);
  v.setUint32(132, devMinor(s.rdev), true);
  v.setUint32(136, devMajor(s.dev), true);
  v.setUint32(140, devMinor(s.dev), true);
  v.setBigUint64(144, BigInt(mntId), true);
  return b;
}

/** A file system's statistics; encoded as struct statfs. */
export interface StatFs {
  type: number;
  bsize: number;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  fsid: bigint;
  namelen: number;
  frsize: number;
  flags: number;
}

/** struct statfs is 120 bytes on x86-64. */
export const SIZEOF_STATFS = 120;

export const ST_RDONLY = 0x0001;
export const ST_NOSUID = 0x0002;
export const ST_NODEV = 0x0004;
export const ST_VALID = 0x0020;

/** Encodes struct statfs exactly as x86-64 Linux lays it out. */
export function encodeStatFs(s: StatFs): Uint8Array {
  const b = new Uint8Array(SIZEOF_STATFS);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(s.type), true);
  v.setBigInt64(8, BigInt(s.bsize), true);
  v.setBigUint64(16, s.blocks, true);
  v.setBigUint64(24, s.bfree, true);
  v.setBigUint64(32, s.bavail, true);
  v.setBigUint64(40, s.files, true);
  v.setBigUint64(48, s.ffree, true);
  v.setBigUint64(56, BigInt.asUintN(64, s.fsid), true);
  v.setBigInt64(64, BigInt(s.namelen), true);
  v.setBigInt64(72, BigInt(s.frsize), true);
  v.setBigInt64(80, BigInt(s.flags), true);
  return b;
}

/** The size of one linux_dirent64 record for a name of `nameLen` bytes (8-byte aligned). */
export function direntReclen(nameLen: number): number {
  return (19 + nameLen + 1 + 7) & ~7;
}

/**
 * Writes one linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
 * at `at` of `buf`; returns the record length, or 0 when it does not fit.
 */
export function encodeDirent64(
  buf: Uint8Array,
  at: number,
  ino: bigint,
  off: number,
  type: number,
  name: Uint8Array,
): number {
  const reclen = direntReclen(name.length);
  if (at + reclen > buf.length) return 0;
  const v = new DataView(buf.buffer, buf.byteOffset + at, reclen);
  v.setBigUint64(0, BigInt.asUintN(64, ino), true);
  v.setBigInt64(8, BigInt(off), true);
  v.setUint16(16, reclen, true);
  v.setUint8(18, type);
  buf.set(name, at + 19);
  buf.fill(0, at + 19 + name.length, at + reclen);
  return reclen;
}

/** The size of one old linux_dirent record (getdents(2)) for a name of `nameLen` bytes. */
export function oldDirentReclen(nameLen: number): number {
  return (18 + nameLen + 2 + 7) & ~7;
}

/**
 * Writes one old linux_dirent { unsigned long d_ino; unsigned long d_off; unsigned short
 * d_reclen; char d_name[]; char pad; char d_type (last byte) } at `at`; the record length, or 0
 * when it does not fit.
 */
export function encodeOldDirent(
  buf: Uint8Array,
  at: number,
  ino: bigint,
  off: number,
  type: number,
  name: Uint8Array,
): number {
  const reclen = oldDirentReclen(name.length);
  if (at + reclen > buf.length) return 0;
  const v = new DataView(buf.buffer, buf.byteOffset + at, reclen);
  v.setBigUint64(0, BigInt.asUintN(64, ino), true);
  v.setBigUint64(8, BigInt(off), true);
  v.setUint16(16, reclen, true);
  buf.set(name, at + 18);
  buf.fill(0, at + 18 + name.length, at + reclen);
  v.setUint8(reclen - 1, type);
  return reclen;
}
