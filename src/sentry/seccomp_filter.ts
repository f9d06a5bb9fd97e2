// The Sentry's own seccomp filter, installed on every thread (TSYNC) once it is confined:
// no opening files, no executing programs, no new sockets or listening, no mounts or namespace
// changes, no kernel modules, keys, BPF, perf, userfaultfd or io_uring; x32 and foreign-arch
// calls kill the process. A denied call fails with EPERM, so that a Node internal probing for
// a feature degrades instead of crashing.
//
// This is a deny list, not yet an allow list: Node's own threads make calls we do not control,
// and an allow list needs their exact set, which has not been measured yet.

import { CONFINED_DENIED } from '../abi/linux/syscall_sets.js';
import { denyListFilter } from '../platform/asm/bpf.js';

/** x86-64 numbers of the calls the confined Sentry never needs. */
export const SENTRY_DENIED: ReadonlyMap<number, string> = new Map([
  ...CONFINED_DENIED,
  [2, 'open'],
  [257, 'openat'],
  [437, 'openat2'],
  [85, 'creat'],
  [53, 'socketpair'],
  [133, 'mknod'],
  [259, 'mknodat'],
  [105, 'setuid'],
  [106, 'setgid'],
]);

export function sentryFilter(): Uint8Array {
  return denyListFilter(SENTRY_DENIED.keys());
}
