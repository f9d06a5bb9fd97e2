// The ptrace platform's machine code, assembled by src/platform/asm: one page that lives at the
// same address in the Sentry and in every stub process (stubs are forks of it).
//
//  fork_entry  called in the Sentry (through the FFI) to create the stub master: fork(); the
//              child asks to be traced, stops itself with SIGSTOP and never runs Sentry code
//              again; the parent returns the child's pid.
//  gadget      `syscall; int3`: the Sentry injects a host system call into a stopped stub by
//              pointing rip here with the call's registers.
//  switch      called in the Sentry: SETREGS, PTRACE_SYSEMU, wait4(__WALL), GETREGS in one FFI
//              call — a synchronous run of one stub thread (tests).
//  resume      called in the Sentry: SETREGS, PTRACE_SYSEMU — a stub thread starts running and
//              is not waited for (the run loop's lanes: several run at once).
//  waitany     called in the Sentry: wait4(pid, __WALL) for one thread or (pid -1) any (EINTR
//              retried), then GETREGS of the stopped thread into the caller's buffer — the hot
//              path of every trap.
//  cycles      called in the Sentry: the TSC (lfence; rdtsc), for the vDSO's calibration.
//  st_*, sw_*  the systrap platform's code (systrap/systrap_code.ts), which uses the same
//              master and stubs; a ptrace stub's filter never lets it make a call.
// This code must never touch memory other than its arguments: after the stub master unmaps
// everything but this page, there is no stack and no libc in a stub.

import { Assembler } from '../asm/x86_64.js';
import { emitSystrapCode, systrapEntries, type SystrapEntries } from '../systrap/systrap_code.js';

const SYS_clone = 56;
const SYS_getpid = 39;
const SYS_kill = 62;
const SYS_ptrace = 101;
const SYS_wait4 = 61;
const SIGCHLD = 17;
const SIGSTOP = 19;
const PTRACE_TRACEME = 0;
const PTRACE_GETREGS = 12;
const PTRACE_SETREGS = 13;
const PTRACE_SYSEMU = 31;
const WALL = 0x40000000;

export interface StubCode {
  code: Uint8Array;
  forkEntry: number;
  gadget: number;
  switchEntry: number;
  cyclesEntry: number;
  resumeEntry: number;
  waitAnyEntry: number;
  /** The systrap platform's code (systrap_code.ts), in the same page. */
  systrap: SystrapEntries;
  listing: string;
}

export function assembleStub(): StubCode {
  const a = new Assembler();
  a.label('fork_entry')
    .movImm('rax', SYS_clone)
    .movImm('rdi', SIGCHLD)
    .zero('rsi')
    .zero('rdx')
    .zero('r10')
    .zero('r8')
    .zero('r9')
    .syscall()
    .test('rax', 'rax')
    .jcc('ne', 'parent')
    // Child: become a tracee, stop, and wait to be driven by the Sentry.
    .movImm('rax', SYS_ptrace)
    .movImm('rdi', PTRACE_TRACEME)
    .zero('rsi')
    .zero('rdx')
    .zero('r10')
    .syscall()
    .movImm('rax', SYS_getpid)
    .syscall()
    .mov('rdi', 'rax')
    .movImm('rsi', SIGSTOP)
    .movImm('rax', SYS_kill)
    .syscall()
    .label('spin')
    .int3()
    .jmp('spin')
    .label('parent')
    .ret();

  a.label('gadget').syscall().int3().jmp('gadget');

  // long switch(int pid /*rdi*/, u64 *regs /*rsi*/, int *status /*rdx*/): resume, then wait
  // for that thread and read its registers.
  a.label('switch')
    .push('rbx')
    .push('r12')
    .push('r13')
    .mov('rbx', 'rdi')
    .mov('r12', 'rsi')
    .mov('r13', 'rdx')
    .call('resume')
    .test('rax', 'rax')
    .jcc('ne', 'out')
    .label('again')
    .movImm('rax', SYS_wait4)
    .mov('rdi', 'rbx')
    .mov('rsi', 'r13')
    .movImm('rdx', WALL)
    .zero('r10')
    .syscall()
    .cmpImm('rax', -4) // EINTR: wait again
    .jcc('e', 'again')
    .test('rax', 'rax')
    .jcc('s', 'out')
    .movImm('rax', SYS_ptrace)
    .movImm('rdi', PTRACE_GETREGS)
    .mov('rsi', 'rbx')
    .zero('rdx')
    .mov('r10', 'r12')
    .syscall()
    .label('out')
    .pop('r13')
    .pop('r12')
    .pop('rbx')
    .ret();

  // long resume(int pid /*rdi*/, u64 *regs /*rsi*/): 0 or -errno
  a.label('resume')
    .push('rbx')
    .mov('rbx', 'rdi')
    .mov('r10', 'rsi')
    .movImm('rax', SYS_ptrace)
    .movImm('rdi', PTRACE_SETREGS)
    .mov('rsi', 'rbx')
    .zero('rdx')
    .syscall()
    .test('rax', 'rax')
    .jcc('ne', 'resume_out')
    .movImm('rax', SYS_ptrace)
    .movImm('rdi', PTRACE_SYSEMU)
    .mov('rsi', 'rbx')
    .zero('rdx')
    .zero('r10')
    .syscall()
    .label('resume_out')
    .pop('rbx')
    .ret();

  // long waitany(int pid /*rdi*/, int *status /*rsi*/, u64 *regs /*rdx*/): the pid that
  // changed state, or -errno; when it stopped, its registers are in regs.
  a.label('waitany')
    .push('rbx')
    .push('r12')
    .push('r13')
    .push('r14')
    .mov('r14', 'rdi')
    .mov('r12', 'rdx')
    .mov('r13', 'rsi')
    .label('wa_again')
    .movImm('rax', SYS_wait4)
    .mov('rdi', 'r14')
    .mov('rsi', 'r13')
    .movImm('rdx', WALL)
    .zero('r10')
    .syscall()
    .cmpImm('rax', -4) // EINTR: wait again
    .jcc('e', 'wa_again')
    .test('rax', 'rax')
    .jcc('s', 'wa_out')
    .mov('rbx', 'rax')
    .load32('rax', 'r13', 0)
    .andImm('rax', 0xff)
    .cmpImm('rax', 0x7f) // stopped: its registers
    .jcc('ne', 'wa_done')
    .movImm('rax', SYS_ptrace)
    .movImm('rdi', PTRACE_GETREGS)
    .mov('rsi', 'rbx')
    .zero('rdx')
    .mov('r10', 'r12')
    .syscall()
    .label('wa_done')
    .mov('rax', 'rbx')
    .label('wa_out')
    .pop('r14')
    .pop('r13')
    .pop('r12')
    .pop('rbx')
    .ret();

  // u64 cycles(void)
  a.label('cycles').lfence().rdtsc().shlImm('rdx', 32).or('rax', 'rdx').ret();

  emitSystrapCode(a, 'fork_entry');

  const code = a.assemble();
  return {
    code,
    forkEntry: a.labelOffset('fork_entry'),
    gadget: a.labelOffset('gadget'),
    switchEntry: a.labelOffset('switch'),
    cyclesEntry: a.labelOffset('cycles'),
    resumeEntry: a.labelOffset('resume'),
    waitAnyEntry: a.labelOffset('waitany'),
    systrap: systrapEntries(a),
    listing: a.listing(),
  };
}
