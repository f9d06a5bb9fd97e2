// The FFI boundary's root: loads libc through koffi and exposes the raw handle to the other
// files of src/host/ only. Nothing outside src/host/ may import this file or koffi (the lint
// rule and docs/architecture.md say so); they call the typed wrappers beside it instead.
//
// Every wrapper in host/ returns a value or a negative errno (Linux's own convention) and never
// lets a Node SystemError escape; the `SAFETY:` line of each native call says what makes it sound.

import koffi from 'koffi';

export { koffi };

/** The process's libc, loaded once. */
export const libc = koffi.load('libc.so.6');

/** errno of the last native call on this thread. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Turns a libc-style result (-1 and errno) into Linux's convention (-errno). */
export function check(r: number | bigint): number {
  const n = typeof r === 'bigint' ? Number(r) : r;
  return n === -1 ? -koffi.errno() : n;
}

/** Like check() for results that may exceed 2^53 (addresses): -errno as a bigint. */
export function checkBig(r: number | bigint): bigint {
  const n = BigInt(r);
  return n === -1n ? -BigInt(koffi.errno()) : n;
}
