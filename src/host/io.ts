// Host I/O on host file descriptors the Sentry owns: read, write, pread, pwrite, fstat and
// isatty. Used for the container's stdio (fsimpl/host) and for fds the Gofer donates
// (fsimpl/gofer). Every wrapper returns a value or -errno; none throws on a host error. A read
// or write blocks when the host fd would: callers that must not block poll first
// (fsimpl/host, kernel/host_watch.ts); poll over many fds and an eventfd serve the Sentry's
// idle wait.

import { check, libc } from './libc.js';

// SAFETY: read(2) writes at most `count` bytes into the buffer we pass, and count is the
// buffer's length.
const read_ = libc.func('long read(int, _Out_ void *buf, size_t count)');
// SAFETY: write(2) reads at most `count` bytes from the buffer we pass (its length).
const write_ = libc.func('long write(int, const void *buf, size_t count)');
// SAFETY: pread(2) like read(2); the offset is a plain integer.
const pread_ = libc.func('long pread(int, _Out_ void *buf, size_t count, int64_t off)');
// SAFETY: pwrite(2) like write(2).
const pwrite_ = libc.func('long pwrite(int, const void *buf, size_t count, int64_t off)');
// SAFETY: fstat(2) writes one struct stat (144 bytes on x86-64) into our 144-byte buffer.
const fstat_ = libc.func('int fstat(int, _Out_ void *st)');
// SAFETY: fcntl(F_GETFL) takes no third argument and touches no memory of ours.
const fcntl_ = libc.func('int fcntl(int, int, ...)');
const F_GETFL = 3;
// SAFETY: isatty(3) only calls ioctl(TCGETS) into libc's own stack buffer.
const isatty_ = libc.func('int isatty(int)');

/** read(2) on host fd `fd` into `dst`; bytes read or -errno. */
export function hostRead(fd: number, dst: Uint8Array): number {
  if (dst.length === 0) return 0;
  return check(read_(fd, dst, dst.length) as number);
}

/** write(2) of `src` to host fd `fd`; bytes written or -errno. */
export function hostWrite(fd: number, src: Uint8Array): number {
  if (src.length === 0) return 0;
  return check(write_(fd, src, src.length) as number);
}

/** pread(2) on host fd `fd`. */
export function hostPread(fd: number, dst: Uint8Array, offset: number): number {
  if (dst.length === 0) return 0;
  return check(pread_(fd, dst, dst.length, offset) as number);
}

/** pwrite(2) on host fd `fd`. */
export function hostPwrite(fd: number, src: Uint8Array, offset: number): number {
  if (src.length === 0) return 0;
  return check(pwrite_(fd, src, src.length, offset) as number);
}

/** The fields of the host's struct stat that the Sentry uses. */
export interface HostStat {
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: bigint;
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

/** fstat(2) on host fd `fd`. */
export function hostFstat(fd: number): HostStat | number {
  const buf = new Uint8Array(144);
  const r = check(fstat_(fd, buf) as number);
  if (r < 0) return r;
  const v = new DataView(buf.buffer);
  const n = (off: number): number => Number(v.getBigInt64(off, true));
  return {
    dev: v.getBigUint64(0, true),
    ino: v.getBigUint64(8, true),
    nlink: n(16),
    mode: v.getUint32(24, true),
    uid: v.getUint32(28, true),
    gid: v.getUint32(32, true),
    rdev: v.getBigUint64(40, true),
    size: n(48),
    blksize: n(56),
    blocks: n(64),
    atimeSec: n(72),
    atimeNsec: n(80),
    mtimeSec: n(88),
    mtimeNsec: n(96),
    ctimeSec: n(104),
    ctimeNsec: n(112),
  };
}

/** isatty(3): whether host fd `fd` is a terminal. */
export function hostIsatty(fd: number): boolean {
  return (isatty_(fd) as number) === 1;
}

/** fcntl(F_GETFL) on host fd `fd`: its access mode and status flags, or -errno. */
export function hostGetfl(fd: number): number {
  return check(fcntl_(fd, F_GETFL) as number);
}

// SAFETY: poll(2) reads and writes one 8-byte struct pollfd in a buffer we own for the call.
const poll_ = libc.func('int poll(void*, unsigned long, int)');

/** The POLL* events ready on host fd `fd` among `events`, waiting up to `timeoutMs` (-1: forever). */
export function hostPoll(fd: number, events: number, timeoutMs: number): number {
  const b = new Int16Array(4);
  new Int32Array(b.buffer)[0] = fd;
  b[2] = events;
  const r = check(poll_(b, 1, timeoutMs) as number);
  return r < 0 ? r : (b[3] ?? 0) & 0xffff;
}

/**
 * poll(2) over `n` struct pollfd packed in `fds` (two int32 each: the fd, then events in the
 * low and revents in the high half), up to `timeoutMs`; how many are ready, or -errno.
 */
export function hostPollMany(fds: Int32Array, n: number, timeoutMs: number): number {
  // SAFETY: `fds` holds at least n 8-byte pollfd structs (checked here); poll writes only
  // their revents fields.
  if (fds.length < n * 2) return -22;
  return check(poll_(fds, n, timeoutMs) as number);
}

// SAFETY: eventfd(2) takes no pointer.
const eventfd_ = libc.func('int eventfd(unsigned int, int)');
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;

/** A non-blocking, close-on-exec eventfd (the idle wait's wake-up), or -errno. */
export function hostEventfd(): number {
  return check(eventfd_(0, EFD_CLOEXEC | EFD_NONBLOCK) as number);
}

/** Empties eventfd `fd`'s counter (it is non-blocking: EAGAIN when already empty). */
export function hostEventfdDrain(fd: number): void {
  hostRead(fd, new Uint8Array(8));
}
