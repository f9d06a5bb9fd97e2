// The sandbox waiter: a tiny static x86-64 program (machine code from our own assembler, no
// C, no libc) that replaces `unshare --fork` as the parent of the Sentry and of each Gofer.
//
//   moat-waiter PROGRAM ARGS...
//
// It enters new user, mount, uts, ipc, net and pid namespaces (unshare(2)), makes every mount
// private, blocks SIGINT and SIGTERM for itself (as unshare --fork does), and forks: the
// child restores the signal mask, asks to be SIGKILLed when the waiter dies (--kill-child)
// and execs PROGRAM, pid 1 of the new pid namespace. The waiter then closes every fd past
// stderr, empties its capability sets, bounding set included (it is root of the new user
// namespace), sets
// no_new_privs and installs a seccomp allow list of four calls: wait4, exit, exit_group,
// rt_sigprocmask, and kill of its own pid; anything else kills it (and so, through the death
// signal, the whole stage). It waits for the child and ends as the child did: the same exit
// status, or death by the same signal.
//
// util-linux's unshare could not do the last part: it waits holding every capability of the
// new user namespace, every fd the stage got, and no filter. Its identity maps are written
// from outside by the launcher (gofer_stage.ts, sentry_stage.ts), which the stages wait for.
//
// Never runs on input from the container: its only inputs are its own argv and environment,
// which the launcher builds. Exit status 125 when a step of its own fails, 127 when the exec
// does (the child's status then).

import * as fs from 'node:fs';
import { SandboxError } from './errors.js';
import { waiterPath } from './paths.js';
import { Assembler, type Reg64 } from '../platform/asm/x86_64.js';
import {
  AUDIT_ARCH_X86_64,
  BpfProgram,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_NR,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
} from '../platform/asm/bpf.js';

const SYS = {
  rt_sigprocmask: 14,
  getpid: 39,
  clone: 56,
  execve: 59,
  exit: 60,
  wait4: 61,
  kill: 62,
  capset: 126,
  prctl: 157,
  mount: 165,
  exit_group: 231,
  unshare: 272,
  seccomp: 317,
  close_range: 436,
} as const;

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;

/** The namespaces the waiter and its child enter. */
export const WAITER_NAMESPACES =
  CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID;

const MS_REC = 0x4000;
const MS_PRIVATE = 0x40000;
const SIGCHLD = 17;
const SIGKILL = 9;
const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
/** SIGINT and SIGTERM, as a sigset_t. */
const BLOCKED_SIGNALS = (1 << (2 - 1)) | (1 << (15 - 1));
const PR_SET_PDEATHSIG = 1;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAPBSET_DROP = 24;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const SECCOMP_SET_MODE_FILTER = 1;
const EINTR = 4;

/** The exit status of a failed step of the waiter itself, and of a failed exec. */
export const WAITER_FAILED = 125;
export const WAITER_EXEC_FAILED = 127;

/** A k that stands for the waiter's pid until it knows it. */
const PID_PLACEHOLDER = 0xfffffff0;

/**
 * The waiter's seccomp program: wait4, exit, exit_group, rt_sigprocmask, and kill of its own
 * pid (the k of one instruction, filled in at run time); anything else kills it.
 */
export function waiterFilter(pid: number = PID_PLACEHOLDER): Uint8Array {
  const p = new BpfProgram();
  p.loadWord(SECCOMP_DATA_ARCH)
    .jeq(AUDIT_ARCH_X86_64, 0, 'kill')
    .loadWord(SECCOMP_DATA_NR)
    .jeq(SYS.wait4, 'allow')
    .jeq(SYS.exit_group, 'allow')
    .jeq(SYS.exit, 'allow')
    .jeq(SYS.rt_sigprocmask, 'allow')
    .jeq(SYS.kill, 0, 'kill')
    .argEq(0, pid, 'allow', 'kill')
    .label('kill')
    .ret(SECCOMP_RET_KILL_PROCESS)
    .label('allow')
    .ret(SECCOMP_RET_ALLOW);
  return p.assemble();
}

/** syscall with rax = nr; the arguments are set by the caller. Clobbers rcx and r11. */
function sys(a: Assembler, nr: number): Assembler {
  return a.movImm('rax', nr).syscall();
}

/** Jumps to `fail` when the last system call returned an error (rax < 0). */
function orFail(a: Assembler): Assembler {
  return a.test('rax', 'rax').jcc('s', 'fail');
}

function args(a: Assembler, values: ReadonlyArray<[Reg64, number]>): Assembler {
  for (const [r, v] of values) {
    if (v === 0) a.zero(r);
    else a.movImm(r, v);
  }
  return a;
}

/** Pushes the filter's instructions, last first, so that rsp points at the first. */
function pushFilter(a: Assembler, filter: Uint8Array, pidReg: Reg64): void {
  const dv = new DataView(filter.buffer, filter.byteOffset, filter.byteLength);
  for (let i = filter.length / 8 - 1; i >= 0; i--) {
    const head = dv.getUint32(i * 8, true);
    const k = dv.getUint32(i * 8 + 4, true);
    if (k === PID_PLACEHOLDER) {
      a.movImm('rax', head).mov('rcx', pidReg).shlImm('rcx', 32).or('rax', 'rcx');
    } else {
      a.movImm('rax', (BigInt(k) << 32n) | BigInt(head));
    }
    a.push('rax');
  }
}

/**
 * The program. Registers it keeps: r12 = the initial stack (argc, argv…), rbx = argc, then
 * r15 = the saved signal mask, r13 = the child's pid, r14 = its own pid, rbx = &status.
 */
export function assembleWaiter(): Assembler {
  const a = new Assembler();
  a.label('_start').mov('r12', 'rsp').load('rbx', 'r12', 0).cmpImm('rbx', 2).jcc('l', 'fail');

  // 1. New namespaces; every mount private (no propagation to or from the host's).
  args(a, [['rdi', WAITER_NAMESPACES]]);
  orFail(sys(a, SYS.unshare));
  a.movImm('rax', 0x2f).push('rax').mov('rsi', 'rsp'); // "/"
  args(a, [
    ['rdi', 0],
    ['rdx', 0],
    ['r10', MS_REC | MS_PRIVATE],
    ['r8', 0],
  ]);
  orFail(sys(a, SYS.mount));

  // 2. Block SIGINT and SIGTERM; [rsp] = the old mask, [rsp+8] = the blocked set.
  a.movImm('rax', BLOCKED_SIGNALS).push('rax').push('rax');
  a.mov('rsi', 'rsp').addImm('rsi', 8).mov('rdx', 'rsp').mov('r15', 'rsp');
  args(a, [
    ['rdi', SIG_BLOCK],
    ['r10', 8],
  ]);
  orFail(sys(a, SYS.rt_sigprocmask));

  // 3. Fork.
  args(a, [
    ['rdi', SIGCHLD],
    ['rsi', 0],
    ['rdx', 0],
    ['r10', 0],
    ['r8', 0],
  ]);
  orFail(sys(a, SYS.clone));
  a.jcc('e', 'child').mov('r13', 'rax');

  // 4. The waiter: no fd past stderr, no capability, no new privileges, the allow list.
  args(a, [
    ['rdi', 3],
    ['rsi', 0xffffffff],
    ['rdx', 0],
  ]);
  sys(a, SYS.close_range); // ENOSYS before Linux 5.9: nothing to close then matters less
  // Every capability out of the bounding set (EINVAL past the kernel's last one), then none.
  a.zero('rbx').label('drop').mov('rsi', 'rbx');
  args(a, [['rdi', PR_CAPBSET_DROP]]);
  sys(a, SYS.prctl).addImm('rbx', 1).cmpImm('rbx', 64).jcc('l', 'drop');
  a.zero('rax').push('rax').push('rax').push('rax').mov('rsi', 'rsp'); // two empty cap sets
  a.movImm('rax', LINUX_CAPABILITY_VERSION_3).push('rax').mov('rdi', 'rsp'); // header, pid 0
  orFail(sys(a, SYS.capset));
  args(a, [
    ['rdi', PR_SET_NO_NEW_PRIVS],
    ['rsi', 1],
    ['rdx', 0],
    ['r10', 0],
    ['r8', 0],
  ]);
  orFail(sys(a, SYS.prctl));
  sys(a, SYS.getpid).mov('r14', 'rax');
  const filter = waiterFilter();
  pushFilter(a, filter, 'r14');
  a.mov('rcx', 'rsp')
    .push('rcx')
    .movImm('rax', filter.length / 8)
    .push('rax'); // sock_fprog
  args(a, [
    ['rdi', SECCOMP_SET_MODE_FILTER],
    ['rsi', 0],
  ]);
  a.mov('rdx', 'rsp');
  orFail(sys(a, SYS.seccomp));

  // 5. Wait for the child; end as it ended.
  a.zero('rax').push('rax').mov('rbx', 'rsp');
  a.label('wait').mov('rdi', 'r13').mov('rsi', 'rbx');
  args(a, [
    ['rdx', 0],
    ['r10', 0],
  ]);
  sys(a, SYS.wait4).cmpImm('rax', -EINTR).jcc('e', 'wait');
  orFail(a);
  a.load32('rax', 'rbx', 0).mov('rbp', 'rax').andImm('rbp', 0x7f).jcc('ne', 'signaled');
  a.shrImm('rax', 8).andImm('rax', 0xff).mov('rdi', 'rax');
  sys(a, SYS.exit_group);
  // Unblock that signal alone (a pending SIGINT or SIGTERM must not take its place), then die
  // of it.
  a.label('signaled')
    .movImm('rax', 1 << (2 - 1))
    .cmpImm('rbp', 2)
    .jcc('e', 'unblock');
  a.movImm('rax', 1 << (15 - 1))
    .cmpImm('rbp', 15)
    .jcc('ne', 'die');
  a.label('unblock').push('rax').mov('rsi', 'rsp');
  args(a, [
    ['rdi', SIG_UNBLOCK],
    ['rdx', 0],
    ['r10', 8],
  ]);
  sys(a, SYS.rt_sigprocmask);
  a.label('die');
  a.mov('rdi', 'r14').mov('rsi', 'rbp');
  sys(a, SYS.kill);
  a.mov('rdi', 'rbp').addImm('rdi', 128); // a signal that cannot kill it (none should)
  sys(a, SYS.exit_group);

  // The child: the old mask back, death with the waiter, then PROGRAM.
  a.label('child').mov('rsi', 'r15');
  args(a, [
    ['rdi', SIG_SETMASK],
    ['rdx', 0],
    ['r10', 8],
  ]);
  orFail(sys(a, SYS.rt_sigprocmask));
  args(a, [
    ['rdi', PR_SET_PDEATHSIG],
    ['rsi', SIGKILL],
  ]);
  orFail(sys(a, SYS.prctl));
  a.mov('rsi', 'r12').addImm('rsi', 16).load('rdi', 'rsi', 0); // argv + 1
  a.mov('rdx', 'rbx').shlImm('rdx', 3).add('rdx', 'r12').addImm('rdx', 16); // envp
  sys(a, SYS.execve);
  args(a, [['rdi', WAITER_EXEC_FAILED]]);
  sys(a, SYS.exit_group);

  a.label('fail');
  args(a, [['rdi', WAITER_FAILED]]);
  sys(a, SYS.exit_group);
  a.hlt();
  return a;
}

const BASE = 0x400000;
const EHDR = 64;
const PHDR = 56;
const PT_LOAD = 1;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;

export interface WaiterImage {
  bytes: Uint8Array;
  listing: string;
}

/** The waiter as a static ELF executable: one read+execute segment, a non-executable stack. */
export function buildWaiterImage(): WaiterImage {
  const a = assembleWaiter();
  const code = a.assemble();
  const textOff = EHDR + 2 * PHDR;
  const size = textOff + code.length;
  const img = new Uint8Array(size);
  const dv = new DataView(img.buffer);
  img.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(BASE + textOff + a.labelOffset('_start')), true);
  dv.setBigUint64(32, BigInt(EHDR), true);
  dv.setUint16(52, EHDR, true);
  dv.setUint16(54, PHDR, true);
  dv.setUint16(56, 2, true);
  dv.setUint16(58, 64, true);
  const phdr = (i: number, type: number, flags: number, len: number, align: number): void => {
    const p = EHDR + i * PHDR;
    dv.setUint32(p, type, true);
    dv.setUint32(p + 4, flags, true);
    dv.setBigUint64(p + 8, 0n, true);
    dv.setBigUint64(p + 16, BigInt(len === 0 ? 0 : BASE), true);
    dv.setBigUint64(p + 24, BigInt(len === 0 ? 0 : BASE), true);
    dv.setBigUint64(p + 32, BigInt(len), true);
    dv.setBigUint64(p + 40, BigInt(len), true);
    dv.setBigUint64(p + 48, BigInt(align), true);
  };
  phdr(0, PT_LOAD, PF_R | PF_X, size, 0x1000);
  phdr(1, PT_GNU_STACK, PF_R | PF_W, 0, 16);
  img.set(code, textOff);
  return { bytes: img, listing: a.listing() };
}

/**
 * Puts the waiter at `file` unless it is there already, byte for byte: written beside it and
 * renamed into place, so that concurrent launchers never exec a half-written file.
 */
export function installWaiter(file: string): void {
  const { bytes } = buildWaiterImage();
  try {
    if (Buffer.from(bytes).equals(fs.readFileSync(file))) return;
  } catch {
    // missing: written below
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes, { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, file);
}

const installed = new Set<string>();

/** The waiter of the repository `repo`, installed (once per process) where it belongs. */
export function installedWaiter(repo: string): string {
  const file = waiterPath(repo);
  if (!installed.has(file)) {
    try {
      installWaiter(file);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new SandboxError(
        'SANDBOX_START_FAILED',
        `install the sandbox waiter "${file}": ${why}`,
        {
          cause: e,
        },
      );
    }
    installed.add(file);
  }
  return file;
}
