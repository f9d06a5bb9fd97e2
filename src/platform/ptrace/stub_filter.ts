// The seccomp filter every ptrace stub carries. Application system calls never reach it (they
// stop in PTRACE_SYSEMU before seccomp runs); it bounds what the *injected* calls may be, so
// that if application code ever ran outside SYSEMU it could do nothing but these, and mmap
// only the memory file, clone (new stubs, new threads of a stub: those two flag sets only) and
// exit (the end of one stub thread). Everything else kills the stub.

import {
  AUDIT_ARCH_X86_64,
  BpfProgram,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_NR,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_TRAP,
  seccompArgHi,
  seccompArgLo,
} from '../asm/bpf.js';

const SYS_mmap = 9;
const SYS_mprotect = 10;
const SYS_munmap = 11;
const SYS_clone = 56;
const SYS_exit = 60;
const SYS_rseq = 334;
const SYS_close_range = 436;
const SYS_gettimeofday = 96;
const SYS_time = 201;
const SYS_getcpu = 309;
const X32_BIT = 0x40000000;
/** clone flags of a new stub: a plain fork, SIGCHLD to its parent. */
export const STUB_FORK_FLAGS = 17;
/** clone flags of a stub thread: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM. */
export const STUB_THREAD_FLAGS = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000;

export function stubFilter(memfd: number): Uint8Array {
  const p = new BpfProgram();
  p.loadWord(SECCOMP_DATA_ARCH)
    .jeq(AUDIT_ARCH_X86_64, 0, 'kill')
    .loadWord(SECCOMP_DATA_NR)
    .jge(X32_BIT, 'kill')
    .jeq(SYS_mmap, 'mmap')
    .jeq(SYS_munmap, 'allow')
    .jeq(SYS_mprotect, 'allow')
    .jeq(SYS_clone, 'clone')
    .jeq(SYS_exit, 'allow')
    .jeq(SYS_close_range, 'allow')
    .jeq(SYS_rseq, 'allow')
    // The kernel's vsyscall-page emulation consults seccomp, not PTRACE_SYSEMU: those three
    // calls stop with SIGSYS, and the Sentry emulates them like any other.
    .jeq(SYS_gettimeofday, 'trap')
    .jeq(SYS_time, 'trap')
    .jeq(SYS_getcpu, 'trap')
    .ret(SECCOMP_RET_KILL_PROCESS)
    .label('trap')
    .ret(SECCOMP_RET_TRAP)
    // clone: exactly the two shapes the platform injects — a new stub (SIGCHLD only) or a
    // thread of this stub; never a namespace, CLONE_UNTRACED or a thread-group trick.
    .label('clone')
    .loadWord(seccompArgHi(0))
    .jeq(0, 0, 'kill')
    .loadWord(seccompArgLo(0))
    .jeq(STUB_FORK_FLAGS, 'allow')
    .jeq(STUB_THREAD_FLAGS, 'allow', 'kill')
    .label('mmap')
    .argEq(4, memfd, 'allow', 'kill')
    .label('allow')
    .ret(SECCOMP_RET_ALLOW)
    .label('kill')
    .ret(SECCOMP_RET_KILL_PROCESS);
  return p.assemble();
}
