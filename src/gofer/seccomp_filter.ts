// The Gofer's seccomp filter, installed on all its threads once it is confined and before it
// serves: an allow list. Node's runtime calls (abi/linux/syscall_sets.ts, measured) and the
// file operations 9P2000.L asks for, all relative to fds it holds: openat with AT_FDCWD is
// refused (its paths are always relative to a walked directory or its own /proc/self/fd), as
// are open, exec, sockets, mounts, namespaces, signals to other processes, ptrace and
// open_by_handle_at. clone makes threads only. x32 and foreign-arch calls kill it; any other
// call fails with EPERM; with --debug the kernel logs each refused call (SECCOMP_FILTER_FLAG_LOG).

import { NODE_RUNTIME_CALLS } from '../abi/linux/syscall_sets.js';
import { type CheckedCall, allowListFilter, seccompArgLo } from '../platform/asm/bpf.js';
import { CLONE3_NOT_AVAILABLE, NODE_CHECKED_CALLS } from '../platform/asm/seccomp_rules.js';

/** The file operations the Gofer serves with (x86-64 numbers). */
export const GOFER_FILE_CALLS: ReadonlyMap<number, string> = new Map([
  [217, 'getdents64'],
  [263, 'unlinkat'],
  [258, 'mkdirat'],
  [259, 'mknodat'],
  [264, 'renameat'],
  [316, 'renameat2'],
  [265, 'linkat'],
  [266, 'symlinkat'],
  [260, 'fchownat'],
  [93, 'fchown'],
  [91, 'fchmod'],
  [268, 'fchmodat'],
  [280, 'utimensat'],
  [77, 'ftruncate'],
  [285, 'fallocate'],
  [74, 'fsync'],
  [75, 'fdatasync'],
  [137, 'statfs'],
  [190, 'fsetxattr'],
  [193, 'fgetxattr'],
  [196, 'flistxattr'],
  [199, 'fremovexattr'],
]);

const SYS_openat = 257;
const AT_FDCWD = 0xffffff9c; // -100, as the low word of the register

/** openat only relative to a directory fd it holds. */
const OPENAT_RELATIVE: CheckedCall = {
  nr: SYS_openat,
  emit: (p, allow, deny) => {
    p.loadWord(seccompArgLo(0)).jeq(AT_FDCWD, deny, allow);
  },
};

export const GOFER_ALLOWED: ReadonlyMap<number, string> = new Map([
  ...NODE_RUNTIME_CALLS,
  ...GOFER_FILE_CALLS,
]);

export function goferFilter(): Uint8Array {
  return allowListFilter({
    allow: GOFER_ALLOWED.keys(),
    checked: [OPENAT_RELATIVE, ...NODE_CHECKED_CALLS],
    errno: CLONE3_NOT_AVAILABLE,
  });
}
