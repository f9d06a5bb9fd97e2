// The open file description: what open(2) returns and dup(2) shares — access mode and status
// flags, the file offset, and the file system's FileImpl beneath. It positions reads and
// writes, encodes getdents64 records and answers the generic ioctls. Reference-counted by the
// fd tables that hold it; the FileImpl is released once, when the last reference goes.
// Never throws; every operation returns a value or -errno.

import { Errno } from '../../abi/linux/errno.js';
import {
  O_ACCMODE,
  O_APPEND,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
  SETFL_MASK,
  encodeDirent64,
  type Stat,
  type StatFs,
} from '../../abi/linux/file.js';
import { BLOCKED } from '../kernel/block.js';
import type { FileImpl, Inode } from './inode.js';
import { afterFileWrite, beforeFileRead } from './file_mapping.js';
import type { VfsPath } from './mount.js';

const enc = new TextEncoder();

/** Writes one directory record at `at`; its length, or 0 when it does not fit. */
export type DirentEncoder = (
  buf: Uint8Array,
  at: number,
  ino: bigint,
  off: number,
  type: number,
  name: Uint8Array,
) => number;

/** The largest file offset we represent exactly (2^53 - 1; Linux's is 2^63 - 1). */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

export class FileDescription {
  /** Access mode and status flags (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH …), no O_CLOEXEC. */
  flags: number;
  offset = 0;
  /** memfd_create's name ("memfd:NAME"), for /proc/PID/fd links of a file without a path. */
  memfdName?: string;
  private refs = 1;
  private releaseHooks: Array<() => void> | null = null;

  constructor(
    readonly inode: Inode,
    /** Where it was opened (fchdir, getcwd, /proc/self/fd); null for anonymous files. */
    readonly path: VfsPath | null,
    /** Null for O_PATH descriptions. */
    readonly impl: FileImpl | null,
    flags: number,
  ) {
    this.flags = flags;
  }

  /** True once the last reference went (epoll forgets such files). */
  get released(): boolean {
    return this.refs <= 0;
  }

  get readable(): boolean {
    const a = this.flags & O_ACCMODE;
    return (this.flags & O_PATH) === 0 && (a === O_RDONLY || a === O_RDWR);
  }

  get writable(): boolean {
    const a = this.flags & O_ACCMODE;
    return (this.flags & O_PATH) === 0 && (a === O_WRONLY || a === O_RDWR);
  }

  incRef(): void {
    this.refs++;
  }

  /** Drops one reference; releases the file (and runs the release hooks) at the last. */
  decRef(): void {
    this.refs--;
    if (this.refs !== 0) return;
    if (this.impl !== null) this.impl.release();
    const hooks = this.releaseHooks;
    this.releaseHooks = null;
    if (hooks !== null) for (const h of hooks) h();
  }

  /** Runs `hook` once when the last reference goes (locks held by this description). */
  onRelease(hook: () => void): void {
    this.releaseHooks ??= [];
    this.releaseHooks.push(hook);
  }

  /**
   * A stream that would block (EAGAIN) parks the calling task unless the description is
   * O_NONBLOCK: the scheduler tries the call again when something changed (kernel/block.ts).
   */
  wouldBlock(n: number): number {
    if (n !== -Errno.EAGAIN || (this.flags & O_NONBLOCK) !== 0) return n;
    return this.impl?.subscribe !== undefined ? BLOCKED : n;
  }

  /** read(2) at the file offset (advancing it), or from the stream. */
  read(dst: Uint8Array): number {
    const impl = this.impl;
    if (impl === null || !this.readable) return -Errno.EBADF;
    if (!impl.seekable) return this.wouldBlock(impl.read(dst, 0));
    beforeFileRead(this, this.offset, dst.length);
    const n = impl.read(dst, this.offset);
    if (n > 0) this.offset += n;
    return n;
  }

  /** pread64(2): reads at `offset`, leaving the file offset alone. */
  pread(dst: Uint8Array, offset: number): number {
    const impl = this.impl;
    if (impl === null || !this.readable) return -Errno.EBADF;
    if (!impl.seekable) return -Errno.ESPIPE;
    if (offset < 0) return -Errno.EINVAL;
    beforeFileRead(this, offset, dst.length);
    return impl.read(dst, offset);
  }

  /** write(2) at the file offset (at the end under O_APPEND), or to the stream. */
  write(src: Uint8Array): number {
    const impl = this.impl;
    if (impl === null || !this.writable) return -Errno.EBADF;
    if (!impl.seekable) return this.wouldBlock(impl.write(src, 0));
    if ((this.flags & O_APPEND) !== 0) {
      const st = this.stat();
      if (typeof st === 'number') return st;
      this.offset = st.size;
    }
    const n = impl.write(src, this.offset);
    if (n > 0) {
      afterFileWrite(this, src.subarray(0, n), this.offset);
      this.offset += n;
    }
    return n;
  }

  /** pwrite64(2). Like Linux, O_APPEND makes it append regardless of `offset`. */
  pwrite(src: Uint8Array, offset: number): number {
    const impl = this.impl;
    if (impl === null || !this.writable) return -Errno.EBADF;
    if (!impl.seekable) return -Errno.ESPIPE;
    if (offset < 0) return -Errno.EINVAL;
    let at = offset;
    if ((this.flags & O_APPEND) !== 0) {
      const st = this.stat();
      if (typeof st === 'number') return st;
      at = st.size;
    }
    const n = impl.write(src, at);
    if (n > 0) afterFileWrite(this, src.subarray(0, n), at);
    return n;
  }

  /** lseek(2); the new offset. */
  seek(offset: number, whence: number): number {
    const impl = this.impl;
    if (impl === null) return -Errno.EBADF;
    if (!impl.seekable) return -Errno.ESPIPE;
    let base: number;
    switch (whence) {
      case SEEK_SET:
        base = 0;
        break;
      case SEEK_CUR:
        base = this.offset;
        break;
      case SEEK_END:
      case SEEK_DATA:
      case SEEK_HOLE: {
        const st = this.stat();
        if (typeof st === 'number') return st;
        if ((st.mode & S_IFMT) === S_IFDIR && whence === SEEK_END) return -Errno.EINVAL;
        if (whence === SEEK_END) {
          base = st.size;
          break;
        }
        // The whole file is data: SEEK_DATA finds `offset`, SEEK_HOLE the end.
        if (offset < 0 || offset >= st.size) return -Errno.ENXIO;
        if (whence === SEEK_HOLE) return (this.offset = st.size);
        return (this.offset = offset);
      }
      default:
        return -Errno.EINVAL;
    }
    const next = base + offset;
    if (next < 0 || next > MAX_OFFSET) return -Errno.EINVAL;
    this.offset = next;
    return next;
  }

  /** fstat(2). */
  stat(): Stat | number {
    if (this.impl?.stat !== undefined) return this.impl.stat();
    return this.inode.stat();
  }

  statfs(): StatFs | number {
    return this.inode.fs.statfs();
  }

  readlink(): string | number {
    if ((this.inode.type & S_IFMT) !== S_IFLNK || this.inode.readlink === undefined) {
      return -Errno.EINVAL;
    }
    return this.inode.readlink();
  }

  /**
   * getdents64(2) (and getdents(2) with the old encoder): fills `buf` with linux_dirent64
   * records from the file offset on; the bytes
   * filled, 0 at the end, -EINVAL when even the first record does not fit, -ENOTDIR if not a
   * directory.
   */
  getdents(buf: Uint8Array, encode: DirentEncoder = encodeDirent64): number {
    const impl = this.impl;
    if (impl === null) return -Errno.EBADF;
    if (impl.readdir === undefined) return -Errno.ENOTDIR;
    let filled = 0;
    for (;;) {
      const batch = impl.readdir(this.offset);
      if (typeof batch === 'number') return filled > 0 ? filled : batch;
      if (batch.length === 0) return filled;
      for (const e of batch) {
        const n = encode(buf, filled, e.ino, e.next, e.type, enc.encode(e.name));
        if (n === 0) return filled > 0 ? filled : -Errno.EINVAL;
        filled += n;
        this.offset = e.next;
      }
    }
  }

  /** FIONREAD: bytes readable without blocking (for regular files, from the offset to the end). */
  bytesReadable(): number {
    const impl = this.impl;
    if (impl === null) return -Errno.EBADF;
    if (impl.readable !== undefined) return impl.readable();
    if ((this.inode.type & S_IFMT) !== S_IFREG) return -Errno.ENOTTY;
    const st = this.stat();
    if (typeof st === 'number') return st;
    return Math.max(0, st.size - this.offset);
  }

  /** A file-specific ioctl (the syscall layer answers the generic ones); -ENOTTY if unknown. */
  ioctl(cmd: number, arg: bigint): number {
    const impl = this.impl;
    if (impl === null) return -Errno.EBADF;
    if (impl.ioctl !== undefined) return impl.ioctl(cmd, arg);
    return -Errno.ENOTTY;
  }

  setNonblocking(on: boolean): void {
    this.flags = on ? this.flags | O_NONBLOCK : this.flags & ~O_NONBLOCK;
  }

  /** F_SETFL: changes only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME. */
  setStatusFlags(flags: number): void {
    this.flags = (this.flags & ~SETFL_MASK) | (flags & SETFL_MASK);
  }
}
