// The data-moving file system calls: read, write, pread64, pwrite64, readv, writev, preadv,
// pwritev, preadv2, pwritev2, lseek, sendfile.
// Each decodes its arguments, finds the open file and moves bytes through the chunked loops
// of sys_file_common.ts. Never throws.

import { Errno } from '../../abi/linux/errno.js';
import { O_APPEND } from '../../abi/linux/file.js';
import type { FileDescription } from '../vfs/file_description.js';
import {
  IO_CHUNK,
  type Iovec,
  argCount,
  copyInIovecs,
  argInt,
  argOffset,
  ioResult,
  readToApp,
  writeFromApp,
} from './sys_file_common.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';

/** Implements Linux syscall read(2). */
function sysRead(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  const count = argCount(a[2]);
  if (count < 0) return count;
  if (!accessOk(a[1], count)) return -Errno.EFAULT;
  return readToApp(ctx, f, a[1], count, null);
}

/**
 * Linux's access_ok, checked before any I/O: the buffer lies below the top of user space, so a
 * kernel address is EFAULT even when nothing would be copied (a read at end of file).
 */
function accessOk(addr: bigint | undefined, count: number): boolean {
  const a = addr ?? 0n;
  return a <= USER_TOP && BigInt(count) <= USER_TOP - a;
}
const USER_TOP = 0x7ffffffff000n;

/** Implements Linux syscall write(2). */
function sysWrite(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  const count = argCount(a[2]);
  if (count < 0) return count;
  if (!accessOk(a[1], count)) return -Errno.EFAULT;
  return writeFromApp(ctx, f, a[1], count, null);
}

/** Implements Linux syscall pread64(2). */
function sysPread64(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  const count = argCount(a[2]);
  if (count < 0) return count;
  if (!accessOk(a[1], count)) return -Errno.EFAULT;
  const pos = argOffset(a[3]);
  if (pos < 0) return -Errno.EINVAL;
  return readToApp(ctx, f, a[1], count, pos);
}

/** Implements Linux syscall pwrite64(2). */
function sysPwrite64(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  const count = argCount(a[2]);
  if (count < 0) return count;
  if (!accessOk(a[1], count)) return -Errno.EFAULT;
  const pos = argOffset(a[3]);
  if (pos < 0) return -Errno.EINVAL;
  return writeFromApp(ctx, f, a[1], count, pos);
}

function vectored(
  ctx: SyscallContext,
  f: FileDescription,
  iovs: Iovec[],
  pos: number | null,
  write: boolean,
): number {
  let done = 0;
  for (const iov of iovs) {
    if (iov.len === 0) continue;
    const at = pos === null ? null : pos + done;
    const n = write
      ? writeFromApp(ctx, f, iov.base, iov.len, at)
      : readToApp(ctx, f, iov.base, iov.len, at);
    if (n < 0) return ioResult(done, n);
    done += n;
    if (n < iov.len) break;
  }
  if (done === 0 && iovs.every((v) => v.len === 0)) {
    if (write ? !f.writable : !f.readable) return -Errno.EBADF;
  }
  return done;
}

/** Implements Linux syscall readv(2). */
function sysReadv(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  const iovs = copyInIovecs(ctx, a[1], argInt(a[2]));
  if (typeof iovs === 'number') return iovs;
  return vectored(ctx, f, iovs, null, false);
}

/** Implements Linux syscall writev(2). */
function sysWritev(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  const iovs = copyInIovecs(ctx, a[1], argInt(a[2]));
  if (typeof iovs === 'number') return iovs;
  return vectored(ctx, f, iovs, null, true);
}

const RWF_HIPRI = 0x1;
const RWF_DSYNC = 0x2;
const RWF_SYNC = 0x4;
const RWF_NOWAIT = 0x8;
const RWF_APPEND = 0x10;

function positioned(
  ctx: SyscallContext,
  a: SyscallArgs,
  write: boolean,
  flags: number | null,
): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  if (
    flags !== null &&
    (flags & ~(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND)) !== 0
  ) {
    return -Errno.EOPNOTSUPP;
  }
  const off = BigInt.asIntN(64, a[3]);
  // preadv2/pwritev2 with offset -1 use (and move) the file offset.
  const current = flags !== null && off === -1n;
  if (!current && (off < 0n || off > BigInt(Number.MAX_SAFE_INTEGER))) return -Errno.EINVAL;
  const iovs = copyInIovecs(ctx, a[1], argInt(a[2]));
  if (typeof iovs === 'number') return iovs;
  if (!current && f.impl !== null && !f.impl.seekable) return -Errno.ESPIPE;
  return vectored(ctx, f, iovs, current ? null : Number(off), write);
}

/** Implements Linux syscall preadv(2). */
function sysPreadv(ctx: SyscallContext, a: SyscallArgs): number {
  return positioned(ctx, a, false, null);
}

/** Implements Linux syscall pwritev(2). */
function sysPwritev(ctx: SyscallContext, a: SyscallArgs): number {
  return positioned(ctx, a, true, null);
}

/**
 * Implements Linux syscall preadv2(2).
 * Difference from Linux: RWF_* flags are accepted and have no effect (RWF_NOWAIT never fails).
 */
function sysPreadv2(ctx: SyscallContext, a: SyscallArgs): number {
  return positioned(ctx, a, false, argInt(a[5]));
}

/**
 * Implements Linux syscall pwritev2(2).
 * Difference from Linux: RWF_* flags are accepted and have no effect (RWF_APPEND does not
 * append).
 */
function sysPwritev2(ctx: SyscallContext, a: SyscallArgs): number {
  return positioned(ctx, a, true, argInt(a[5]));
}

/**
 * Implements Linux syscall lseek(2).
 * Difference from Linux: offsets beyond 2^53 - 1 answer EINVAL (Linux allows up to 2^63 - 1).
 */
function sysLseek(ctx: SyscallContext, a: SyscallArgs): number {
  const f = ctx.files.getFile(argInt(a[0]));
  if (typeof f === 'number') return f;
  const off = BigInt.asIntN(64, a[1]);
  if (off > BigInt(Number.MAX_SAFE_INTEGER) || off < BigInt(Number.MIN_SAFE_INTEGER)) {
    return -Errno.EINVAL;
  }
  return f.seek(Number(off), argInt(a[2]));
}

/**
 * Implements Linux syscall sendfile(2): copies through a Sentry buffer, chunk by chunk.
 * `offset` (when not NULL) is read, used instead of in_fd's offset, and updated.
 */
function sysSendfile(ctx: SyscallContext, a: SyscallArgs): number {
  const out = ctx.files.getFile(argInt(a[0]));
  if (typeof out === 'number') return out;
  const inp = ctx.files.getFile(argInt(a[1]));
  if (typeof inp === 'number') return inp;
  if (!inp.readable || !out.writable) return -Errno.EBADF;
  if ((out.flags & O_APPEND) !== 0) return -Errno.EINVAL;
  const count = argCount(a[3]);
  if (count < 0) return count;
  const seekable = inp.impl?.seekable === true;
  let pos = inp.offset;
  if (a[2] !== 0n) {
    if (!seekable) return -Errno.ESPIPE;
    const raw = ctx.mem.copyIn(a[2], 8);
    if (typeof raw === 'number') return raw;
    const o = new DataView(raw.buffer, raw.byteOffset, 8).getBigInt64(0, true);
    if (o < 0n || o > BigInt(Number.MAX_SAFE_INTEGER)) return -Errno.EINVAL;
    pos = Number(o);
  }
  let done = 0;
  let err = 0;
  while (done < count) {
    const buf = new Uint8Array(Math.min(count - done, IO_CHUNK));
    const n = seekable ? inp.pread(buf, pos) : inp.read(buf);
    if (n <= 0) {
      err = n;
      break;
    }
    const m = out.write(buf.subarray(0, n));
    if (m < 0) {
      err = m;
      break;
    }
    done += m;
    pos += m;
    if (m < n || n < buf.length) break;
  }
  if (a[2] !== 0n) {
    const o = new Uint8Array(8);
    new DataView(o.buffer).setBigInt64(0, BigInt(pos), true);
    const c = ctx.mem.copyOut(a[2], o);
    if (c < 0) return c;
  } else if (seekable) {
    inp.offset = pos;
  }
  return ioResult(done, err);
}

export const rwSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [0, { name: 'read', handler: sysRead, support: 'full' }],
  [1, { name: 'write', handler: sysWrite, support: 'full' }],
  [8, { name: 'lseek', handler: sysLseek, support: 'full' }],
  [17, { name: 'pread64', handler: sysPread64, support: 'full' }],
  [18, { name: 'pwrite64', handler: sysPwrite64, support: 'full' }],
  [19, { name: 'readv', handler: sysReadv, support: 'full' }],
  [20, { name: 'writev', handler: sysWritev, support: 'full' }],
  [40, { name: 'sendfile', handler: sysSendfile, support: 'full' }],
  [295, { name: 'preadv', handler: sysPreadv, support: 'full' }],
  [296, { name: 'pwritev', handler: sysPwritev, support: 'full' }],
  [327, { name: 'preadv2', handler: sysPreadv2, support: 'partial', note: 'RWF_* flags ignored' }],
  [
    328,
    { name: 'pwritev2', handler: sysPwritev2, support: 'partial', note: 'RWF_* flags ignored' },
  ],
];
