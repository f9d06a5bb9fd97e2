// The Sentry's own seccomp filter, installed on every thread (TSYNC) once it is confined: an
// allow list. Node's runtime calls (abi/linux/syscall_sets.ts, measured), and what the Sentry
// itself does on the host: ptrace and wait for its stubs, signal them, and read, write, size
// and punch the memory file and the files the Gofers donate. No open, no exec, no socket, no
// mount or namespace, no process other than its own threads (clone with CLONE_THREAD only);
// x32 and foreign-arch calls kill it. Any other call fails with EPERM, so that a Node internal
// probing for a feature degrades instead of crashing; with --debug the filter carries
// SECCOMP_FILTER_FLAG_LOG and the kernel logs each refused call with its number.

import { NODE_RUNTIME_CALLS } from '../abi/linux/syscall_sets.js';
import { allowListFilter } from '../platform/asm/bpf.js';
import { CLONE3_NOT_AVAILABLE, NODE_CHECKED_CALLS } from '../platform/asm/seccomp_rules.js';

/** The Sentry's own host calls beyond Node's (x86-64 numbers). */
export const SENTRY_CALLS: ReadonlyMap<number, string> = new Map([
  [101, 'ptrace'],
  [61, 'wait4'],
  [247, 'waitid'],
  [62, 'kill'],
  [285, 'fallocate'],
  [77, 'ftruncate'],
  [74, 'fsync'],
  [75, 'fdatasync'],
  [217, 'getdents64'],
  // Placing stub threads on the CPUs of the run loop's lanes (its own pid namespace holds
  // nothing else).
  [203, 'sched_setaffinity'],
  // The systrap platform's wait for its application threads' state words.
  [449, 'futex_waitv'],
]);

/** Everything the Sentry may call, hot calls first. */
export const SENTRY_ALLOWED: ReadonlyMap<number, string> = new Map([
  [101, 'ptrace'],
  [61, 'wait4'],
  ...NODE_RUNTIME_CALLS,
  ...SENTRY_CALLS,
]);

export function sentryFilter(): Uint8Array {
  return allowListFilter({
    allow: SENTRY_ALLOWED.keys(),
    checked: NODE_CHECKED_CALLS,
    errno: CLONE3_NOT_AVAILABLE,
  });
}
