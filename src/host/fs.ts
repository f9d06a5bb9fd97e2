// Host file-system calls for the Gofer: *at(2) calls relative to directory fds, fstatat and
// fstatfs decoded into plain objects, getdents64 parsing, positioned I/O. Every function returns
// a value or a negative errno and never throws for a host error; paths are passed as given, so
// callers (the Gofer) decide what may be resolved — this module must never add path lookups of
// its own or follow a symlink the caller did not ask to follow.

import { HostFd } from './fd.js';
import { check, libc } from './libc.js';

import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW } from '../abi/linux/file.js';

// The Linux constants the Gofer passes to these calls: one definition, in abi/.
export {
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  AT_REMOVEDIR,
  AT_EMPTY_PATH,
  O_RDONLY,
  O_WRONLY,
  O_RDWR,
  O_ACCMODE,
  O_CREAT,
  O_EXCL,
  O_NOCTTY,
  O_TRUNC,
  O_APPEND,
  O_NONBLOCK,
  O_DSYNC,
  O_DIRECT,
  O_LARGEFILE,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_NOATIME,
  O_CLOEXEC,
  O_SYNC,
  O_PATH,
  S_IFMT,
  S_IFDIR,
  S_IFREG,
  S_IFLNK,
  SEEK_SET,
} from '../abi/linux/file.js';

type Dir = HostFd | typeof AT_FDCWD;
const dirNo = (d: Dir): number => (typeof d === 'number' ? d : d.fd);

// SAFETY (all below): each call receives ints, NUL-terminated strings that koffi copies for the
// call, and buffers (Uint8Array) at least as long as the length argument passed with them; the
// kernel writes only within those lengths. openat/fcntl are variadic in libc and declared here
// with their full fixed arity, which the x86-64 SysV ABI passes identically.
const openat_ = libc.func('int openat(int, const char *, int, uint32_t)');
const fstatat_ = libc.func('int fstatat(int, const char *, void *, int)');
const fstatfs_ = libc.func('int fstatfs(int, void *)');
const readlinkat_ = libc.func('intptr_t readlinkat(int, const char *, void *, size_t)');
const getdents64_ = libc.func('intptr_t getdents64(int, void *, size_t)');
const lseek_ = libc.func('int64_t lseek(int, int64_t, int)');
const pread_ = libc.func('intptr_t pread64(int, void *, size_t, int64_t)');
const pwrite_ = libc.func('intptr_t pwrite64(int, const void *, size_t, int64_t)');
const mkdirat_ = libc.func('int mkdirat(int, const char *, uint32_t)');
const mknodat_ = libc.func('int mknodat(int, const char *, uint32_t, uint64_t)');
const symlinkat_ = libc.func('int symlinkat(const char *, int, const char *)');
const linkat_ = libc.func('int linkat(int, const char *, int, const char *, int)');
const renameat_ = libc.func('int renameat(int, const char *, int, const char *)');
const unlinkat_ = libc.func('int unlinkat(int, const char *, int)');
const fchmod_ = libc.func('int fchmod(int, uint32_t)');
const fchownat_ = libc.func('int fchownat(int, const char *, uint32_t, uint32_t, int)');
const ftruncate_ = libc.func('int ftruncate(int, int64_t)');
const utimensat_ = libc.func('int utimensat(int, const char *, void *, int)');
const fsync_ = libc.func('int fsync(int)');
const fdatasync_ = libc.func('int fdatasync(int)');
const fcntl_ = libc.func('int fcntl(int, int, int)');

const F_DUPFD_CLOEXEC = 1030;

/** openat(2); a new owned fd or -errno. */
export function openat(dir: Dir, path: string, flags: number, mode = 0): HostFd | number {
  const r = check(openat_(dirNo(dir), path, flags, mode) as number);
  return r < 0 ? r : new HostFd(r);
}

/** fcntl(F_DUPFD_CLOEXEC): a second owned fd for the same open file. */
export function dupCloexec(fd: HostFd): HostFd | number {
  const r = check(fcntl_(fd.fd, F_DUPFD_CLOEXEC, 0) as number);
  return r < 0 ? r : new HostFd(r);
}

export interface HostStat {
  dev: bigint;
  ino: bigint;
  nlink: bigint;
  mode: number;
  uid: number;
  gid: number;
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

/** fstatat(2) (x86-64 struct stat, 144 bytes). Use path "" with AT_EMPTY_PATH for the fd itself. */
export function fstatat(dir: Dir, path: string, flags: number): HostStat | number {
  const b = new Uint8Array(144);
  const r = check(fstatat_(dirNo(dir), path, b, flags) as number);
  if (r < 0) return r;
  const v = new DataView(b.buffer);
  const u = (o: number): bigint => v.getBigUint64(o, true);
  const s = (o: number): bigint => v.getBigInt64(o, true);
  return {
    dev: u(0),
    ino: u(8),
    nlink: u(16),
    mode: v.getUint32(24, true),
    uid: v.getUint32(28, true),
    gid: v.getUint32(32, true),
    rdev: u(40),
    size: s(48),
    blksize: s(56),
    blocks: s(64),
    atimeSec: s(72),
    atimeNsec: s(80),
    mtimeSec: s(88),
    mtimeNsec: s(96),
    ctimeSec: s(104),
    ctimeNsec: s(112),
  };
}

/** fstat of the fd itself (works on O_PATH fds). */
export function fstat(fd: HostFd): HostStat | number {
  return fstatat(fd, '', AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

export interface HostStatFs {
  type: bigint;
  bsize: bigint;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  fsid: bigint;
  namelen: bigint;
}

/** fstatfs(2) (x86-64 struct statfs, 120 bytes); works on O_PATH fds. */
export function fstatfs(fd: HostFd): HostStatFs | number {
  const b = new Uint8Array(120);
  const r = check(fstatfs_(fd.fd, b) as number);
  if (r < 0) return r;
  const v = new DataView(b.buffer);
  const u = (o: number): bigint => v.getBigUint64(o, true);
  return {
    type: u(0),
    bsize: u(8),
    blocks: u(16),
    bfree: u(24),
    bavail: u(32),
    files: u(40),
    ffree: u(48),
    fsid: u(56),
    namelen: u(64),
  };
}

const utf8 = new TextDecoder();

/** readlinkat(2); path "" reads the symlink an O_PATH|O_NOFOLLOW fd refers to. */
export function readlinkat(dir: Dir, path: string): string | number {
  const b = new Uint8Array(4096);
  const r = check(readlinkat_(dirNo(dir), path, b, b.length) as number | bigint);
  if (r < 0) return r;
  if (r >= b.length) return -36; // ENAMETOOLONG: the target may have been cut.
  return utf8.decode(b.subarray(0, r));
}

export interface HostDirent {
  ino: bigint;
  off: bigint;
  type: number;
  name: string;
}

/** getdents64(2) on a directory opened for reading; the entries read (empty at the end). */
export function getdents64(fd: HostFd, bufSize = 32768): HostDirent[] | number {
  const b = new Uint8Array(bufSize);
  const n = check(getdents64_(fd.fd, b, b.length) as number | bigint);
  if (n < 0) return n;
  const v = new DataView(b.buffer);
  const out: HostDirent[] = [];
  let p = 0;
  while (p + 19 <= n) {
    const reclen = v.getUint16(p + 16, true);
    if (reclen < 19 || p + reclen > n) break;
    let end = p + 19;
    while (end < p + reclen && b[end] !== 0) end++;
    out.push({
      ino: v.getBigUint64(p, true),
      off: v.getBigInt64(p + 8, true),
      type: v.getUint8(p + 18),
      name: utf8.decode(b.subarray(p + 19, end)),
    });
    p += reclen;
  }
  return out;
}

/** lseek(2); the new offset or -errno. */
export function lseek(fd: HostFd, off: bigint, whence: number): bigint | number {
  const r = lseek_(fd.fd, off, whence) as number | bigint;
  const n = BigInt(r);
  return n === -1n ? check(-1) : n;
}

/** pread(2) into `buf`; bytes read or -errno. */
export function pread(fd: HostFd, buf: Uint8Array, off: bigint): number {
  return check(pread_(fd.fd, buf, buf.length, off) as number | bigint);
}

/** pwrite(2) of `buf`; bytes written or -errno. */
export function pwrite(fd: HostFd, buf: Uint8Array, off: bigint): number {
  return check(pwrite_(fd.fd, buf, buf.length, off) as number | bigint);
}

export function mkdirat(dir: Dir, path: string, mode: number): number {
  return check(mkdirat_(dirNo(dir), path, mode) as number);
}

export function mknodat(dir: Dir, path: string, mode: number, dev: bigint): number {
  return check(mknodat_(dirNo(dir), path, mode, dev) as number);
}

export function symlinkat(target: string, dir: Dir, path: string): number {
  return check(symlinkat_(target, dirNo(dir), path) as number);
}

export function linkat(
  olddir: Dir,
  oldpath: string,
  newdir: Dir,
  newpath: string,
  flags: number,
): number {
  return check(linkat_(dirNo(olddir), oldpath, dirNo(newdir), newpath, flags) as number);
}

export function renameat(olddir: Dir, oldpath: string, newdir: Dir, newpath: string): number {
  return check(renameat_(dirNo(olddir), oldpath, dirNo(newdir), newpath) as number);
}

export function unlinkat(dir: Dir, path: string, flags: number): number {
  return check(unlinkat_(dirNo(dir), path, flags) as number);
}

export function fchmod(fd: HostFd, mode: number): number {
  return check(fchmod_(fd.fd, mode) as number);
}

export function fchownat(dir: Dir, path: string, uid: number, gid: number, flags: number): number {
  return check(fchownat_(dirNo(dir), path, uid, gid, flags) as number);
}

export function ftruncate(fd: HostFd, size: bigint): number {
  return check(ftruncate_(fd.fd, size) as number);
}

/** UTIME_NOW / UTIME_OMIT for utimensat's nanoseconds. */
export const UTIME_NOW = (1n << 30n) - 1n;
export const UTIME_OMIT = (1n << 30n) - 2n;

/** utimensat(2) with [atime, mtime] as [sec, nsec] pairs. */
export function utimensat(
  dir: Dir,
  path: string,
  atime: readonly [bigint, bigint],
  mtime: readonly [bigint, bigint],
  flags: number,
): number {
  const t = new BigInt64Array([atime[0], atime[1], mtime[0], mtime[1]]);
  return check(utimensat_(dirNo(dir), path, t, flags) as number);
}

export function fsync(fd: HostFd, dataOnly = false): number {
  return check((dataOnly ? fdatasync_(fd.fd) : fsync_(fd.fd)) as number);
}

const F_GETFL = 3;
const F_SETFL = 4;

/** fcntl(F_GETFL): the open file's status flags and access mode. */
export function getStatusFlags(fd: HostFd): number {
  return check(fcntl_(fd.fd, F_GETFL, 0) as number);
}

/** fcntl(F_SETFL): sets O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME (others are ignored by Linux). */
export function setStatusFlags(fd: HostFd, flags: number): number {
  return check(fcntl_(fd.fd, F_SETFL, flags) as number);
}
