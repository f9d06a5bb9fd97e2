// The systrap platform's machine code, appended to the stub page (so that it is at the same
// address in the Sentry and in every stub). Two kinds of code live here:
//
// In application threads (never in the Sentry):
//  sys            `syscall; ret` — the only place an application thread's own calls come
//                 from; its filter allows just futex, rt_sigreturn, exit, arch_prctl and
//                 sched_yield here, and traps everything else, wherever it comes from.
//  clone_gadget   `syscall`, then the parent stops at int3 (the executor is traced) and the
//                 child (rax 0) goes to thread_entry on the stack it was given.
//  thread_entry   a new thread: blocks every signal, closes every descriptor (it got a copy of
//                 the executor's table), takes its area's top as its signal stack, installs
//                 the application filter, reports itself ready and waits.
//  handler        every host signal of an application thread (SIGSYS from the filter, faults,
//                 the Sentry's SIGUSR1 kick) lands here on the signal stack: it records the
//                 frame in the message page, reports the stop (waking the Sentry if it sleeps)
//                 and waits for the Sentry's word, then returns through rt_sigreturn from the
//                 frame the Sentry left in the message (the kernel's, with the Sentry's
//                 registers in it, or one the Sentry built).
//  restorer       rt_sigreturn (SA_RESTORER; the handler never returns normally).
//
// In the Sentry (called through the FFI):
//  wait           sleeps in futex_waitv until one of the given words leaves its
//                 expected value; returns its index (or -ETIMEDOUT).
//  wake           FUTEX_WAKE one waiter of a word.
//
// Application-thread code must treat the message page as hostile (other threads of the same
// process can write it): it only reads words and jumps to fixed code, and at worst a thread
// makes its own process misbehave.

import type { Assembler } from '../asm/x86_64.js';
import {
  AREA_SIZE,
  DATA,
  FLAG_SET_FS,
  FLAG_SET_GS,
  MSG,
  MSG_PAGE,
  STATE_EXIT,
  STATE_WAITERS,
} from './systrap_layout.js';

const SYS_rt_sigprocmask = 14;
const SYS_rt_sigreturn = 15;
const SYS_sigaltstack = 131;
const SYS_arch_prctl = 158;
const SYS_futex = 202;
const SYS_exit = 60;
const SYS_seccomp = 317;
const SYS_close_range = 436;
const SYS_futex_waitv = 449;
const SIG_SETMASK = 2;
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const ARCH_SET_GS = 0x1001;
const ARCH_SET_FS = 0x1002;
const SECCOMP_SET_MODE_FILTER = 1;
const CLOCK_MONOTONIC = 1;
const EINTR = 4;
const EAGAIN = 11;
const ETIMEDOUT = 110;
/** struct futex_waitv: val u64, uaddr u64, flags u32, reserved u32. */
const WAITV_SIZE = 24;

export interface SystrapEntries {
  sys: number;
  cloneGadget: number;
  handler: number;
  restorer: number;
  wait: number;
  wake: number;
}

/**
 * Emits the systrap code into `a`; `base` is a label at offset 0 of the stub page (the data
 * page is at base + 0x1000).
 */
export function emitSystrapCode(a: Assembler, base: string): void {
  // ---- application threads ----
  a.label('st_sys').syscall().ret();

  a.label('st_clone_gadget')
    .syscall()
    .test('rax', 'rax')
    .jcc('e', 'st_thread_entry')
    .label('st_clone_parent')
    .int3()
    .jmp('st_clone_parent');

  // The new thread: rsp is the end of its message page.
  a.label('st_thread_entry')
    .mov('r15', 'rsp')
    .addImm('r15', -MSG_PAGE)
    // rt_sigprocmask(SIG_SETMASK, &all, NULL, 8)
    .movImm('rax', -1)
    .push('rax')
    .mov('rsi', 'rsp')
    .movImm('rdi', SIG_SETMASK)
    .zero('rdx')
    .movImm('r10', 8)
    .movImm('rax', SYS_rt_sigprocmask)
    .call('st_sys')
    .pop('rax')
    // close_range(0, ~0U, 0)
    .zero('rdi')
    .movImm('rsi', 0xffffffff)
    .zero('rdx')
    .movImm('rax', SYS_close_range)
    .call('st_sys')
    // sigaltstack({ ss_sp = area + MSG_PAGE, ss_flags = 0, ss_size = AREA_SIZE - MSG_PAGE })
    .movImm('rax', AREA_SIZE - MSG_PAGE)
    .push('rax')
    .zero('rax')
    .push('rax')
    .mov('rax', 'r15')
    .addImm('rax', MSG_PAGE)
    .push('rax')
    .mov('rdi', 'rsp')
    .zero('rsi')
    .movImm('rax', SYS_sigaltstack)
    .call('st_sys')
    .addImm('rsp', 24)
    // seccomp(SECCOMP_SET_MODE_FILTER, 0, &app_fprog): from here on, only the calls above
    // the `sys` site that its filter allows run on the host.
    .movImm('rdi', SECCOMP_SET_MODE_FILTER)
    .zero('rsi')
    .leaRip('rdx', base, DATA.appFprog)
    .movImm('rax', SYS_seccomp)
    .call('st_sys')
    .test('rax', 'rax')
    .jcc('ne', 'st_exit')
    .jmp('st_report');

  // void handler(int signo, siginfo_t *si, ucontext_t *uc), on the thread's signal stack.
  a.label('st_handler')
    .mov('r15', 'rsi')
    .andImm('r15', -AREA_SIZE)
    .store32('r15', MSG.kind, 'rdi')
    .store('r15', MSG.siginfo, 'rsi')
    .store('r15', MSG.uctx, 'rdx')
    .leaRip('rax', base, DATA.fsgsbase)
    .load32('rax', 'rax', 0)
    .test('rax', 'rax')
    .jcc('e', 'st_report')
    .segBase('rdfsbase', 'rax')
    .store('r15', MSG.fsBase, 'rax')
    .segBase('rdgsbase', 'rax')
    .store('r15', MSG.gsBase, 'rax');

  // Report the stop: state = TRAPPED; wake the Sentry if it sleeps on the word.
  a.label('st_report')
    .zero('rax')
    .xchg32('r15', MSG.state, 'rax')
    .testImm('rax', STATE_WAITERS)
    .jcc('e', 'st_wait')
    .mov('rdi', 'r15')
    .movImm('rsi', FUTEX_WAKE)
    .movImm('rdx', 1)
    .movImm('rax', SYS_futex)
    .call('st_sys');

  // Wait for the Sentry's word: spin a while, then sleep in FUTEX_WAIT.
  a.label('st_wait').load32('rcx', 'r15', MSG.spin);
  a.label('st_spin')
    .load32('rax', 'r15', MSG.state)
    .test('rax', 'rax')
    .jcc('ne', 'st_go')
    .test('rcx', 'rcx')
    .jcc('e', 'st_sleep')
    .pause()
    .addImm('rcx', -1)
    .jmp('st_spin');
  a.label('st_sleep')
    .store32Imm('r15', MSG.sleeping, 1)
    .mfence()
    .load32('rax', 'r15', MSG.state)
    .test('rax', 'rax')
    .jcc('ne', 'st_woke')
    .mov('rdi', 'r15')
    .movImm('rsi', FUTEX_WAIT)
    .zero('rdx')
    .zero('r10')
    .movImm('rax', SYS_futex)
    .call('st_sys')
    .store32Imm('r15', MSG.sleeping, 0)
    .load32('rax', 'r15', MSG.state)
    .test('rax', 'rax')
    .jcc('e', 'st_sleep')
    .jmp('st_go');
  a.label('st_woke').store32Imm('r15', MSG.sleeping, 0);
  a.label('st_go')
    .cmpImm('rax', STATE_EXIT)
    .jcc('e', 'st_exit')
    .load32('rax', 'r15', MSG.flags)
    .testImm('rax', FLAG_SET_FS)
    .jcc('e', 'st_no_fs')
    .movImm('rdi', ARCH_SET_FS)
    .load('rsi', 'r15', MSG.fsBase)
    .movImm('rax', SYS_arch_prctl)
    .call('st_sys')
    .label('st_no_fs')
    .load32('rax', 'r15', MSG.flags)
    .testImm('rax', FLAG_SET_GS)
    .jcc('e', 'st_no_gs')
    .movImm('rdi', ARCH_SET_GS)
    .load('rsi', 'r15', MSG.gsBase)
    .movImm('rax', SYS_arch_prctl)
    .call('st_sys')
    .label('st_no_gs')
    .store32Imm('r15', MSG.flags, 0)
    // rt_sigreturn reads its frame at rsp - 8: rsp is the ucontext.
    .load('rsp', 'r15', MSG.uctx)
    .movImm('rax', SYS_rt_sigreturn)
    .jmp('st_sys');
  a.label('st_exit').zero('rdi').movImm('rax', SYS_exit).jmp('st_sys');

  a.label('st_restorer').movImm('rax', SYS_rt_sigreturn).jmp('st_sys');

  // ---- the Sentry ----
  // long wait(struct futex_waitv *v /*rdi*/, u64 n /*rsi*/, u64 narm /*rdx*/,
  //           struct timespec *deadline /*rcx*/)   (the Sentry spins before, in JavaScript)
  // Entries [0, narm) are state words: ready when neither `val` nor `val & ~WAITERS`; before
  // sleeping they are armed (val & ~WAITERS -> val). The others are ready when not `val`.
  a.label('st_wait_any')
    .push('r12')
    .push('r13')
    .push('r14')
    .push('r15')
    .push('rbp')
    .mov('r12', 'rdi')
    .mov('r13', 'rsi')
    .mov('r14', 'rdx')
    .mov('r15', 'rcx');
  a.label('sw_scan').call('sw_find').test('rax', 'rax').jcc('ns', 'sw_out');
  // Arm the state words; one that moved meanwhile is ready.
  a.label('sw_arm').zero('rbp');
  a.label('sw_arm_next')
    .cmp('rbp', 'r14')
    .jcc('ae', 'sw_sleep')
    .mov('rdi', 'rbp')
    .movImm('rax', WAITV_SIZE)
    .mul('rdi') // rax = i * 24 (rdx clobbered)
    .add('rax', 'r12')
    .mov('rdi', 'rax')
    .load('rsi', 'rdi', 8) // uaddr
    .load32('rdx', 'rdi', 0) // armed value
    .mov('rax', 'rdx')
    .andImm('rax', ~STATE_WAITERS)
    .lockCmpxchg32('rsi', 0, 'rdx')
    .jcc('e', 'sw_armed')
    .cmp('rax', 'rdx') // already armed
    .jcc('e', 'sw_armed')
    .mov('rax', 'rbp')
    .jmp('sw_out');
  a.label('sw_armed').addImm('rbp', 1).jmp('sw_arm_next');
  a.label('sw_sleep')
    .mov('rdi', 'r12')
    .mov('rsi', 'r13')
    .zero('rdx')
    .mov('r10', 'r15')
    .movImm('r8', CLOCK_MONOTONIC)
    .movImm('rax', SYS_futex_waitv)
    .syscall()
    .test('rax', 'rax')
    .jcc('ns', 'sw_woken')
    .cmpImm('rax', -ETIMEDOUT)
    .jcc('e', 'sw_timeout')
    .cmpImm('rax', -EAGAIN)
    .jcc('e', 'sw_woken')
    .cmpImm('rax', -EINTR)
    .jcc('e', 'sw_woken')
    // Any other error (a refused call, bad arguments) goes back to the caller.
    .jmp('sw_out');
  a.label('sw_woken').call('sw_find').test('rax', 'rax').jcc('ns', 'sw_out').jmp('sw_sleep');
  a.label('sw_timeout')
    .call('sw_find')
    .test('rax', 'rax')
    .jcc('ns', 'sw_out')
    .movImm('rax', -ETIMEDOUT);
  a.label('sw_out').pop('rbp').pop('r15').pop('r14').pop('r13').pop('r12').ret();

  // sw_find: the index of the first ready entry, or -1 (rax); clobbers rcx, rdx, rsi, rdi.
  a.label('sw_find').zero('rcx').mov('rdi', 'r12');
  a.label('sw_find_next')
    .cmp('rcx', 'r13')
    .jcc('ae', 'sw_none')
    .load('rsi', 'rdi', 8)
    .load32('rsi', 'rsi', 0) // current value
    .load32('rdx', 'rdi', 0) // expected
    .cmp('rsi', 'rdx')
    .jcc('e', 'sw_not_ready')
    .cmp('rcx', 'r14')
    .jcc('ae', 'sw_ready')
    .andImm('rdx', ~STATE_WAITERS)
    .cmp('rsi', 'rdx')
    .jcc('ne', 'sw_ready');
  a.label('sw_not_ready').addImm('rcx', 1).addImm('rdi', WAITV_SIZE).jmp('sw_find_next');
  a.label('sw_ready').mov('rax', 'rcx').ret();
  a.label('sw_none').movImm('rax', -1).ret();

  // long wake(u32 *word /*rdi*/)
  a.label('st_wake')
    .movImm('rsi', FUTEX_WAKE)
    .movImm('rdx', 1)
    .zero('r10')
    .movImm('rax', SYS_futex)
    .syscall()
    .ret();
}

export function systrapEntries(a: Assembler): SystrapEntries {
  return {
    sys: a.labelOffset('st_sys'),
    cloneGadget: a.labelOffset('st_clone_gadget'),
    handler: a.labelOffset('st_handler'),
    restorer: a.labelOffset('st_restorer'),
    wait: a.labelOffset('st_wait_any'),
    wake: a.labelOffset('st_wake'),
  };
}
