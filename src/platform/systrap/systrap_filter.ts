// The two host seccomp filters of the systrap platform.
//
// The base filter is the stub master's, so every stub process and thread carries it. It
// allows the calls the Sentry injects into an address space's executor (a traced thread that
// never runs application code: mmap of the memory files only, munmap, mprotect, clone of a new
// stub or of an application thread in exactly the platform's shapes) and the calls a new
// application thread makes to set itself up; everything else traps (SIGSYS), never kills —
// application threads inherit this filter, and their ordinary calls must reach the handler.
//
// The application filter goes on every application thread before it runs application code.
// It traps every call except five made from the stub's one `syscall; ret` site (`sys`):
// futex, rt_sigreturn, exit, arch_prctl(ARCH_SET_FS/GS) and sched_yield. An application
// that jumps to that site can only wait, wake, return from a frame, end its own thread, set
// its own segment bases or yield: nothing that reaches beyond its own process.

import {
  AUDIT_ARCH_X86_64,
  BpfProgram,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_NR,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_TRAP,
  seccompArgHi,
  seccompArgLo,
} from '../asm/bpf.js';

const SYS_rt_sigaction = 13;
const SYS_rt_sigprocmask = 14;
const SYS_rt_sigreturn = 15;
const SYS_mmap = 9;
const SYS_mprotect = 10;
const SYS_munmap = 11;
const SYS_sched_yield = 24;
const SYS_clone = 56;
const SYS_exit = 60;
const SYS_sigaltstack = 131;
const SYS_arch_prctl = 158;
const SYS_futex = 202;
const SYS_seccomp = 317;
const SYS_rseq = 334;
const SYS_close_range = 436;
const ARCH_SET_GS = 0x1001;
const ARCH_SET_FS = 0x1002;
const X32_BIT = 0x40000000;
const SECCOMP_DATA_IP_LO = 8;
const SECCOMP_DATA_IP_HI = 12;

/** clone flags of a new stub: a plain fork, SIGCHLD to its parent. */
export const SYSTRAP_FORK_FLAGS = 17;
/**
 * clone flags of an application thread: CLONE_VM|SIGHAND|THREAD|SYSVSEM and CHILD_SETTID|
 * CHILD_CLEARTID (its tid word in the message page, zeroed when it dies) — without
 * CLONE_FILES, so that it can close the memory files' descriptors the executor holds.
 */
export const SYSTRAP_THREAD_FLAGS = 0x100 | 0x800 | 0x10000 | 0x40000 | 0x01000000 | 0x00200000;

export function systrapBaseFilter(memfds: readonly number[]): Uint8Array {
  const p = new BpfProgram();
  p.loadWord(SECCOMP_DATA_ARCH)
    .jeq(AUDIT_ARCH_X86_64, 0, 'trap')
    .loadWord(SECCOMP_DATA_NR)
    .jge(X32_BIT, 'trap')
    .jeq(SYS_mmap, 'mmap')
    .jeq(SYS_munmap, 'allow')
    .jeq(SYS_mprotect, 'allow')
    .jeq(SYS_clone, 'clone')
    .jeq(SYS_futex, 'allow')
    .jeq(SYS_rt_sigreturn, 'allow')
    .jeq(SYS_exit, 'allow')
    .jeq(SYS_arch_prctl, 'allow')
    .jeq(SYS_sched_yield, 'allow')
    .jeq(SYS_close_range, 'allow')
    .jeq(SYS_rseq, 'allow')
    .jeq(SYS_rt_sigaction, 'allow')
    .jeq(SYS_rt_sigprocmask, 'allow')
    .jeq(SYS_sigaltstack, 'allow')
    .jeq(SYS_seccomp, 'allow')
    .ret(SECCOMP_RET_TRAP)
    .label('clone')
    .loadWord(seccompArgHi(0))
    .jeq(0, 0, 'trap')
    .loadWord(seccompArgLo(0))
    .jeq(SYSTRAP_FORK_FLAGS, 'allow')
    .jeq(SYSTRAP_THREAD_FLAGS, 'allow', 'trap')
    .label('mmap')
    .loadWord(seccompArgHi(4))
    .jeq(0, 0, 'trap')
    .loadWord(seccompArgLo(4));
  for (const fd of memfds) p.jeq(fd, 'allow');
  p.label('trap').ret(SECCOMP_RET_TRAP).label('allow').ret(SECCOMP_RET_ALLOW);
  return p.assemble();
}

/** `sysSite` is the address just after the stub's `syscall` instruction at `sys`. */
export function systrapAppFilter(sysSite: bigint): Uint8Array {
  const lo = Number(sysSite & 0xffffffffn);
  const hi = Number(sysSite >> 32n);
  const p = new BpfProgram();
  p.loadWord(SECCOMP_DATA_ARCH)
    .jeq(AUDIT_ARCH_X86_64, 0, 'trap')
    .loadWord(SECCOMP_DATA_IP_LO)
    .jeq(lo, 0, 'trap')
    .loadWord(SECCOMP_DATA_IP_HI)
    .jeq(hi, 0, 'trap')
    .loadWord(SECCOMP_DATA_NR)
    .jeq(SYS_futex, 'allow')
    .jeq(SYS_rt_sigreturn, 'allow')
    .jeq(SYS_exit, 'allow')
    .jeq(SYS_sched_yield, 'allow')
    .jeq(SYS_arch_prctl, 'prctl', 'trap')
    .label('prctl')
    .loadWord(seccompArgHi(0))
    .jeq(0, 0, 'trap')
    .loadWord(seccompArgLo(0))
    .jeq(ARCH_SET_FS, 'allow')
    .jeq(ARCH_SET_GS, 'allow')
    .label('trap')
    .ret(SECCOMP_RET_TRAP)
    .label('allow')
    .ret(SECCOMP_RET_ALLOW);
  return p.assemble();
}
