// Host memory primitives for the Sentry's memory file: memfd_create, ftruncate, mmap of the
// memfd into the Sentry itself (an ArrayBuffer view over it), and executable pages for moat's
// own assembled machine code. Nothing here maps application memory into the Sentry except the
// memory file; nothing here ever maps a file from the host's file system.

import { HostFd } from './fd.js';
import { check, checkBig, koffi, libc } from './libc.js';

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_FIXED_NOREPLACE = 0x100000;

// SAFETY: memfd_create reads the NUL-terminated name from a Buffer we own for the call.
const memfdCreate_ = libc.func('int memfd_create(const char*, unsigned int)');
// SAFETY: ftruncate takes an fd and a length; no memory of ours.
const ftruncate_ = libc.func('int ftruncate(int, int64_t)');
// SAFETY: mmap's address is a hint or a MAP_FIXED_NOREPLACE address we chose; the returned
// region is owned by the caller, who must not munmap it while a view over it lives.
const mmap_ = libc.func('uint64_t mmap(uint64_t, size_t, int, int, int, int64_t)');
// SAFETY: munmap of a region this module mapped and whose views are dropped.
const munmap_ = libc.func('int munmap(uint64_t, size_t)');
// SAFETY: madvise on a region of the memory file mapping; it only hints the kernel.
const madvise_ = libc.func('int madvise(uint64_t, size_t, int)');

// SAFETY: lseek with SEEK_DATA/SEEK_HOLE on the memory file only moves its offset.
const lseek_ = libc.func('int64_t lseek(int, int64_t, int)');

const MFD_CLOEXEC = 1;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;
const ENXIO = 6;
export const MADV_REMOVE = 9;

/** A memfd of `size` bytes (sparse), close-on-exec. */
export function memfdCreate(name: string, size: number): HostFd | number {
  const fd = check(memfdCreate_(name, MFD_CLOEXEC) as number);
  if (fd < 0) return fd;
  const r = check(ftruncate_(fd, size) as number);
  if (r < 0) return r;
  return new HostFd(fd);
}

/** Maps `len` bytes of `fd` at `offset` shared into the Sentry; returns the address or -errno. */
export function mapShared(fd: HostFd, len: number, offset: number): bigint {
  const r = checkBig(mmap_(0n, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.fd, offset) as bigint);
  return r === -1n ? -1n : r;
}

/** Maps an anonymous read-write-execute page block at exactly `addr` (fails if taken). */
export function mapCodeAt(addr: bigint, len: number): bigint {
  return checkBig(
    mmap_(
      addr,
      len,
      PROT_READ | PROT_WRITE | PROT_EXEC,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
      -1,
      0,
    ) as bigint,
  );
}

/** Maps `len` bytes of private anonymous read-write memory; the address or -errno. */
export function mapAnonymous(len: number): bigint {
  return checkBig(
    mmap_(0n, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) as bigint,
  );
}

export function unmap(addr: bigint, len: number): number {
  return check(munmap_(addr, len) as number);
}

/** Frees the backing pages of a memfd-backed range (punches a hole). */
export function discard(addr: bigint, len: number): number {
  return check(madvise_(addr, len, MADV_REMOVE) as number);
}

/**
 * The ranges of [off, off+len) of a memfd that hold data, as [start, end) pairs: the rest are
 * holes that read as zeros (never written, or punched by discard). -errno on failure.
 */
export function dataExtents(
  fd: HostFd,
  off: number,
  len: number,
): Array<[number, number]> | number {
  const out: Array<[number, number]> = [];
  const end = off + len;
  let cur = off;
  while (cur < end) {
    const d = check(lseek_(fd.fd, cur, SEEK_DATA) as number);
    if (d === -ENXIO) break;
    if (d < 0) return d;
    if (d >= end) break;
    const h = check(lseek_(fd.fd, d, SEEK_HOLE) as number);
    if (h < 0) return h;
    out.push([d, Math.min(h, end)]);
    cur = h;
  }
  return out;
}

/** An ArrayBuffer over `len` bytes at `addr`, which must stay mapped while the view lives. */
export function viewOf(addr: bigint, len: number): ArrayBuffer {
  return koffi.view(addr, len);
}

/** Calls machine code at `addr` as a C function of signature `proto` (koffi syntax). */
const protos = new Map<string, ReturnType<typeof koffi.proto>>();

export function nativeFunction(addr: bigint, proto: string): (...args: unknown[]) => unknown {
  let type = protos.get(proto);
  if (type === undefined) {
    type = koffi.proto(proto);
    protos.set(proto, type);
  }
  // SAFETY: `addr` holds machine code assembled by moat with exactly this signature.
  return koffi.decode(addr, type) as (...args: unknown[]) => unknown;
}
