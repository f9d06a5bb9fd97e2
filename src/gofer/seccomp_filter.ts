// The Gofer's seccomp filter, installed on all its threads once it is confined and before it
// serves: it may open and change files (its job), but never execute a program, make or use a
// network socket, mount, change namespaces, trace, or reach the kernel's modules, keys, BPF,
// perf or io_uring. x32 and foreign-arch calls kill it. Denied calls fail with EPERM.

import { denyListFilter } from '../platform/asm/bpf.js';

export const GOFER_DENIED: ReadonlyMap<number, string> = new Map([
  [59, 'execve'],
  [322, 'execveat'],
  [41, 'socket'],
  [42, 'connect'],
  [49, 'bind'],
  [50, 'listen'],
  [43, 'accept'],
  [288, 'accept4'],
  [165, 'mount'],
  [166, 'umount2'],
  [155, 'pivot_root'],
  [161, 'chroot'],
  [272, 'unshare'],
  [308, 'setns'],
  [101, 'ptrace'],
  [310, 'process_vm_readv'],
  [311, 'process_vm_writev'],
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
  [169, 'reboot'],
  [167, 'swapon'],
  [168, 'swapoff'],
  [163, 'acct'],
  [126, 'capset'],
]);

export function goferFilter(): Uint8Array {
  return denyListFilter(GOFER_DENIED.keys());
}
