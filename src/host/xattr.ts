// Host extended-attribute calls for the Gofer: fgetxattr, fsetxattr, flistxattr and
// fremovexattr on an owned fd opened for I/O (Linux refuses O_PATH fds with EBADF). Every
// function returns a value or a negative errno and never throws for a host error. It must
// never take a path: the Gofer resolves files itself, one component at a time, and passes
// only fds here, so nothing in this module can follow a symlink.

import type { HostFd } from './fd.js';
import { check, libc } from './libc.js';

/** XATTR_SIZE_MAX and XATTR_LIST_MAX: the largest value and name list Linux moves. */
export const XATTR_SIZE_MAX = 65536;
export const XATTR_LIST_MAX = 65536;
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

const ERANGE = 34;

// SAFETY (all below): each call receives an int fd, a NUL-terminated name that koffi copies
// for the call, and a buffer (Uint8Array) at least as long as the size passed with it (or
// null with size 0, which Linux answers with the size needed and never dereferences); the
// kernel writes only within that size.
const fgetxattr_ = libc.func('intptr_t fgetxattr(int, const char *, void *, size_t)');
const fsetxattr_ = libc.func('int fsetxattr(int, const char *, const void *, size_t, int)');
const flistxattr_ = libc.func('intptr_t flistxattr(int, void *, size_t)');
const fremovexattr_ = libc.func('int fremovexattr(int, const char *)');

/**
 * Asks `call` for the size, then for the bytes; again if the attribute grew in between
 * (ERANGE), up to the Linux maximum.
 */
function sized(call: (buf: Uint8Array | null, size: number) => number): Uint8Array | number {
  for (let tries = 0; tries < 4; tries++) {
    const n = call(null, 0);
    if (n < 0) return n;
    if (n === 0) return new Uint8Array(0);
    const buf = new Uint8Array(Math.min(n, XATTR_SIZE_MAX));
    const r = call(buf, buf.length);
    if (r === -ERANGE && buf.length < XATTR_SIZE_MAX) continue;
    if (r < 0) return r;
    return buf.subarray(0, r);
  }
  return -ERANGE;
}

/** fgetxattr(2): the value of `name`, or -errno (-ENODATA when absent). */
export function fgetxattr(fd: HostFd, name: string): Uint8Array | number {
  return sized((b, n) => check(fgetxattr_(fd.fd, name, b, n) as number | bigint));
}

/** fsetxattr(2) with XATTR_CREATE / XATTR_REPLACE `flags`. */
export function fsetxattr(fd: HostFd, name: string, value: Uint8Array, flags: number): number {
  return check(fsetxattr_(fd.fd, name, value, value.length, flags) as number);
}

/** flistxattr(2): the names, each followed by a NUL, as Linux packs them. */
export function flistxattr(fd: HostFd): Uint8Array | number {
  return sized((b, n) => check(flistxattr_(fd.fd, b, n) as number | bigint));
}

/** fremovexattr(2). */
export function fremovexattr(fd: HostFd, name: string): number {
  return check(fremovexattr_(fd.fd, name) as number);
}
