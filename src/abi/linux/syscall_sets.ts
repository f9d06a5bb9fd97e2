// Sets of x86-64 system calls that moat's seccomp policies share. Pure data.

/**
 * Calls no confined moat process (the Sentry, a Gofer) ever needs once it serves: executing
 * programs, network sockets, mounts and namespaces, kernel modules and kexec, BPF, perf,
 * keys, userfaultfd, io_uring, reboot and swap, accounting, other processes' memory, and
 * changing capabilities.
 */
export const CONFINED_DENIED: ReadonlyMap<number, string> = new Map([
  [59, 'execve'],
  [322, 'execveat'],
  [41, 'socket'],
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
  [169, 'reboot'],
  [167, 'swapon'],
  [168, 'swapoff'],
  [163, 'acct'],
  [310, 'process_vm_readv'],
  [311, 'process_vm_writev'],
  [126, 'capset'],
]);
