// What every file system call shares: argument decoding (ints, sizes, offsets, paths), the one
// rule for "n bytes moved, then an error" (partial progress wins over the error, as in Linux),
// and the chunked copy loops between application memory and files. Never throws; never holds
// more than one chunk of application data at a time.

import { BLOCKED } from '../kernel/block.js';
import { beforeFileRead } from '../vfs/file_mapping.js';
import { Errno } from '../../abi/linux/errno.js';
import {
  MAX_RW_COUNT,
  UIO_MAXIOV,
  O_APPEND,
  O_NONBLOCK,
  PATH_MAX,
  POLLIN,
  POLLOUT,
  S_IFMT,
  S_IFREG,
} from '../../abi/linux/file.js';
import type { FileDescription } from '../vfs/file_description.js';
import type { SyscallContext } from './types.js';

/** The most bytes a read or write moves per call into a file (bounds Sentry memory). */
export const IO_CHUNK = 1 << 20;

/** A C `int` argument (fd, flags, mode): the low 32 bits, signed. */
export function argInt(a: bigint): number {
  return Number(BigInt.asIntN(32, a));
}

/** A C `unsigned int` argument. */
export function argUint(a: bigint): number {
  return Number(BigInt.asUintN(32, a));
}

/** A size_t count for read/write: -EINVAL when negative as ssize_t, else clamped to MAX_RW_COUNT. */
export function argCount(a: bigint): number {
  if (BigInt.asIntN(64, a) < 0n) return -Errno.EINVAL;
  return a > BigInt(MAX_RW_COUNT) ? MAX_RW_COUNT : Number(a);
}

/** An off_t argument: signed 64 bits; -EINVAL past what we represent exactly. */
export function argOffset(a: bigint): number {
  const v = BigInt.asIntN(64, a);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
    return -Errno.EINVAL;
  return Number(v);
}

/** A path argument: at most PATH_MAX - 1 bytes before its NUL; -EFAULT or -ENAMETOOLONG. */
export function argPath(ctx: SyscallContext, addr: bigint): string | number {
  return ctx.mem.copyInString(addr, PATH_MAX - 1);
}

/**
 * The result of an I/O call that moved `done` bytes and then met `err` (0 or -errno): any
 * progress wins over the error, as in Linux.
 */
export function ioResult(done: number, err: number): number {
  return done > 0 ? done : err;
}

/**
 * Reads up to `count` bytes of `f` into application memory at `addr`: at `pos` when given
 * (pread), else at the file offset (advanced by what reached the application) or from the
 * stream. Streams answer after their first non-empty read (no waiting for more).
 */
export function readToApp(
  ctx: SyscallContext,
  f: FileDescription,
  addr: bigint,
  count: number,
  pos: number | null,
): number {
  const impl = f.impl;
  if (impl === null || !f.readable) return -Errno.EBADF;
  if (pos !== null && !impl.seekable) return -Errno.ESPIPE;
  if (pos !== null && pos < 0) return -Errno.EINVAL;
  if (impl.seekable) beforeFileRead(f, pos ?? f.offset, count);
  let done = 0;
  for (;;) {
    const want = Math.min(count - done, IO_CHUNK);
    // Straight into application memory when the range allows it; else through scratch.
    const direct = ctx.mem.ioView?.(addr + BigInt(done), want, true) ?? null;
    const buf = direct ?? scratch(want);
    let n: number;
    if (!impl.seekable) n = f.wouldBlock(impl.read(buf, 0));
    else n = impl.read(buf, (pos ?? f.offset) + (pos === null ? 0 : done));
    if (n === BLOCKED && done === 0) {
      // A socket's SO_RCVTIMEO ends the wait with EAGAIN.
      const limit = impl.waitLimitNs?.(POLLIN) ?? 0n;
      if (limit > 0n && ctx.mayWait?.(limit) === false) return -Errno.EAGAIN;
      ctx.waitOn?.(f, POLLIN);
    }
    if (n < 0) return ioResult(done, n);
    if (n > 0 && direct === null) {
      const c = ctx.mem.copyOut(addr + BigInt(done), buf.subarray(0, n));
      if (c < 0) return ioResult(done, c);
    }
    done += n;
    if (pos === null && impl.seekable) f.offset += n;
    if (n < want || done >= count || !impl.seekable) return done;
  }
}

let scratchBuf = new Uint8Array(0);

/** A reusable buffer of at least `n` bytes (the Sentry is single-threaded; never retained). */
function scratch(n: number): Uint8Array {
  if (scratchBuf.length < n) scratchBuf = new Uint8Array(Math.max(n, 65536));
  return scratchBuf.subarray(0, n);
}

/**
 * Writes `count` bytes from application memory at `addr` to `f`: at `pos` when given (pwrite),
 * else at the file offset (or the end, under O_APPEND) or to the stream.
 */
export function writeFromApp(
  ctx: SyscallContext,
  f: FileDescription,
  addr: bigint,
  count: number,
  pos: number | null,
): number {
  if (f.impl === null || !f.writable) return -Errno.EBADF;
  if (pos !== null && !f.impl.seekable) return -Errno.ESPIPE;
  // RLIMIT_FSIZE (generic_write_check_limits): regular files only; a write that starts at or
  // past the limit is EFBIG with SIGXFSZ, one that would cross it is cut short.
  const limit = ctx.fileSizeLimit?.() ?? Infinity;
  if (limit !== Infinity && (f.inode.type & S_IFMT) === S_IFREG && count > 0) {
    let at = pos ?? f.offset;
    if (pos === null && (f.flags & O_APPEND) !== 0) {
      const st = f.stat();
      if (typeof st === 'number') return st;
      at = st.size;
    }
    if (at >= limit) {
      ctx.fileTooBig?.();
      return -Errno.EFBIG;
    }
    count = Math.min(count, limit - at);
  }
  // A blocking write to a stream goes on until everything is written (pipe_write): a call
  // that parked part-way resumes where it stopped; a signal ends it with the count so far.
  let done = pos === null && !f.impl.seekable ? (ctx.ioResume?.() ?? 0) : 0;
  for (;;) {
    const want = Math.min(count - done, IO_CHUNK);
    const data =
      ctx.mem.ioView?.(addr + BigInt(done), want, false) ??
      ctx.mem.copyIn(addr + BigInt(done), want);
    if (typeof data === 'number') return ioResult(done, data);
    const n = pos === null ? f.write(data) : f.pwrite(data, pos + done);
    if (n === BLOCKED) {
      const limit = f.impl.waitLimitNs?.(POLLOUT) ?? 0n;
      if (limit > 0n && ctx.mayWait?.(limit) === false) return ioResult(done, -Errno.EAGAIN);
      if (done > 0 && ctx.ioPark?.(done) !== true) return done;
      ctx.waitOn?.(f, POLLOUT);
      return BLOCKED;
    }
    if (n < 0) return ioResult(done, n);
    done += n;
    if (done >= count) return done;
    if (n < want && (n === 0 || f.impl.seekable || (f.flags & O_NONBLOCK) !== 0)) return done;
  }
}

/** Copies a 4-byte int out to `addr`; 0 or -EFAULT. */
export function copyOutInt(ctx: SyscallContext, addr: bigint, v: number): number {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  const r = ctx.mem.copyOut(addr, b);
  return r < 0 ? r : 0;
}

/** Copies a 4-byte int in from `addr`; the value or -EFAULT (as `{ err }`). */
export function copyInInt(ctx: SyscallContext, addr: bigint): { v: number } | { err: number } {
  const b = ctx.mem.copyIn(addr, 4);
  if (typeof b === 'number') return { err: b };
  return { v: new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true) };
}

export interface Iovec {
  base: bigint;
  len: number;
}

/** Copies in and checks an iovec array; the total is clamped to MAX_RW_COUNT like Linux. */
export function copyInIovecs(ctx: SyscallContext, addr: bigint, cnt: number): Iovec[] | number {
  if (cnt < 0 || cnt > UIO_MAXIOV) return -Errno.EINVAL;
  if (cnt === 0) return [];
  const raw = ctx.mem.copyIn(addr, cnt * 16);
  if (typeof raw === 'number') return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const out: Iovec[] = [];
  let total = 0;
  for (let i = 0; i < cnt; i++) {
    const base = v.getBigUint64(i * 16, true);
    const len64 = v.getBigInt64(i * 16 + 8, true);
    if (len64 < 0n) return -Errno.EINVAL;
    let len = len64 > BigInt(MAX_RW_COUNT) ? MAX_RW_COUNT : Number(len64);
    if (total + len > MAX_RW_COUNT) len = MAX_RW_COUNT - total;
    total += len;
    out.push({ base, len });
  }
  return out;
}
