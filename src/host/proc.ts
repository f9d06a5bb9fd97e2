// Host process-management calls the launcher needs that Node does not offer: flock(2) for
// per-container locks in the state store. Never signals or waits for processes (Node's
// process.kill and child_process do that) and never opens files.

import { check, libc } from './libc.js';

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

// SAFETY: flock(2) takes two ints and touches no memory of ours; an invalid fd is EBADF.
const flock_ = libc.func('int flock(int, int)');

/** flock(2) on an fd that Node's fs opened; 0 or -errno (EWOULDBLOCK with LOCK_NB). */
export function flock(fd: number, op: number): number {
  return check(flock_(fd, op) as number);
}
