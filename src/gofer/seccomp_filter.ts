// The Gofer's seccomp filter, installed on all its threads once it is confined and before it
// serves: it may open and change files (its job), but never execute a program, make or use a
// network socket, mount, change namespaces, trace, or reach the kernel's modules, keys, BPF,
// perf or io_uring. x32 and foreign-arch calls kill it. Denied calls fail with EPERM.

import { CONFINED_DENIED } from '../abi/linux/syscall_sets.js';
import { denyListFilter } from '../platform/asm/bpf.js';

export const GOFER_DENIED: ReadonlyMap<number, string> = new Map([
  ...CONFINED_DENIED,
  [43, 'accept'],
  [288, 'accept4'],
  [101, 'ptrace'],
]);

export function goferFilter(): Uint8Array {
  return denyListFilter(GOFER_DENIED.keys());
}
