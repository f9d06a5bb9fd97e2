// Host process-management calls the launcher needs that Node does not offer: flock(2) for
// per-container locks in the state store, and close_range(2) to keep a caller's stray
// descriptors out of the sandbox. Never signals or waits for processes (Node's process.kill
// and child_process do that) and never opens files.

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

const CLOSE_RANGE_CLOEXEC = 4;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const ENOSYS = 38;
const EINVAL = 22;

// SAFETY: close_range(2) takes three integers and touches no memory; with
// CLOSE_RANGE_CLOEXEC it closes nothing, it only marks descriptors close-on-exec.
const closeRange_ = libc.func('int close_range(unsigned int, unsigned int, int)');
// SAFETY: fcntl(2) with F_GETFD/F_SETFD takes and returns integers only.
const fcntl_ = libc.func('int fcntl(int, int, int)');

/**
 * Marks every descriptor from `first` up close-on-exec, so that children started afterwards
 * inherit only what is handed to them explicitly (stdio arrays dup them without the flag).
 * Falls back to fcntl(2) over the given open fds where close_range(2) is missing.
 * 0 or -errno.
 */
export function markCloexecFrom(first: number, openFds: () => number[]): number {
  const r = check(closeRange_(first, 0xffff_ffff, CLOSE_RANGE_CLOEXEC) as number);
  if (r !== -ENOSYS && r !== -EINVAL) return r;
  for (const fd of openFds()) {
    if (fd < first) continue;
    const flags = check(fcntl_(fd, F_GETFD, 0) as number);
    if (flags >= 0) check(fcntl_(fd, F_SETFD, flags | FD_CLOEXEC) as number);
  }
  return 0;
}
