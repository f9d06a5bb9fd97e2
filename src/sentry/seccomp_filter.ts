// The Sentry's own seccomp filter, installed on every thread (TSYNC) once it is confined:
// no opening files, no executing programs, no new sockets or listening, no mounts or namespace
// changes, no kernel modules, keys, BPF, perf, userfaultfd or io_uring; x32 and foreign-arch
// calls kill the process. A denied call fails with EPERM, so that a Node internal probing for
// a feature degrades instead of crashing.
//
// This is a deny list, not yet an allow list: Node's own threads make calls we do not control,
// and an allow list needs their exact set, which has not been measured yet.

import { denyListFilter } from '../platform/asm/bpf.js';

/** x86-64 numbers of the calls the confined Sentry never needs. */
export const SENTRY_DENIED: ReadonlyMap<number, string> = new Map([
  [2, 'open'],
  [257, 'openat'],
  [437, 'openat2'],
  [85, 'creat'],
  [59, 'execve'],
  [322, 'execveat'],
  [41, 'socket'],
  [53, 'socketpair'],
  [42, 'connect'],
  [49, 'bind'],
  [50, 'listen'],
  [165, 'mount'],
  [166, 'umount2'],
  [155, 'pivot_root'],
  [161, 'chroot'],
  [272, 'unshare'],
  [308, 'setns'],
  [175, 'init_module'],
  [313, 'finit_module'],
  [176, 'delete_module'],
  [246, 'kexec_load'],
  [320, 'kexec_file_load'],
  [321, 'bpf'],
  [298, 'perf_event_open'],
  [248, 'add_key'],
  [249, 'request_key'],
  [250, 'keyctl'],
  [323, 'userfaultfd'],
  [425, 'io_uring_setup'],
  [133, 'mknod'],
  [259, 'mknodat'],
  [169, 'reboot'],
  [167, 'swapon'],
  [168, 'swapoff'],
  [163, 'acct'],
  [310, 'process_vm_readv'],
  [311, 'process_vm_writev'],
  [126, 'capset'],
  [105, 'setuid'],
  [106, 'setgid'],
]);

export function sentryFilter(): Uint8Array {
  return denyListFilter(SENTRY_DENIED.keys());
}
