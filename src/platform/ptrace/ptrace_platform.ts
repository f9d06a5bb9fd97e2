// The ptrace platform: application code runs in host "stub" processes that the Sentry traces
// with PTRACE_SYSEMU, so that every system call stops before the host kernel runs it and the
// Sentry emulates it instead. Stubs are forks of a stub master that the Sentry creates at boot,
// before it confines itself; the master keeps nothing but the stub code page and the memory
// file's descriptor, and each stub's address space is built by injecting
// mmap(memfd, MAP_SHARED|MAP_FIXED) into it through the `syscall; int3` gadget.
//
// It must never let an application system call reach the host (only PTRACE_SYSEMU resumes
// application code) and never resume a stub with a signal the application chose.
//
// Owns: the stub master, the stub page, the CPU pinning (the Sentry on one CPU, each stub
// thread on its lane's: a same-CPU ptrace round trip costs a sixth of a cross-CPU one on our
// machines), and which stub threads are running (started, not yet collected by waitAny).

import type { HostFd } from '../../host/fd.js';
import { mapCodeAt, nativeFunction, unmap, viewOf } from '../../host/memory.js';
import {
  PTRACE_CONT,
  PTRACE_GETEVENTMSG,
  PTRACE_GETFPREGS,
  PTRACE_SETFPREGS,
  PTRACE_GETREGS,
  PTRACE_GETSIGINFO,
  PTRACE_GET_RSEQ_CONFIGURATION,
  NT_X86_XSTATE,
  ptraceGetRegset,
  ptraceSetRegset,
  PTRACE_O_EXITKILL,
  PTRACE_O_TRACECLONE,
  PTRACE_O_TRACEFORK,
  PTRACE_O_TRACESYSGOOD,
  PTRACE_SETOPTIONS,
  PTRACE_SETREGS,
  WALL,
  allowedCpus,
  decodeWaitStatus,
  kill,
  pinThreadToCpu,
  pinToCpu,
  tgkill,
  ptraceBuf,
  ptraceVal,
  wait4,
} from '../../host/ptrace.js';
import { Errno } from '../../abi/linux/errno.js';
import {
  FP_LEGACY_SIZE,
  REG_COUNT,
  Reg,
  fpImageProblem,
  type AddressSpace,
  type Platform,
  type Registers,
  type ThreadContext,
  type Trap,
  type TrapEvent,
} from '../platform.js';
import { assembleStub, type StubCode } from './stub_code.js';
import { STUB_FORK_FLAGS, STUB_THREAD_FLAGS, stubFilter } from './stub_filter.js';

/**
 * Page 0: the code; page 1: the stubs' seccomp program (fprog at 0, filter at 16) and, at
 * SIGACTION_AT, the struct sigaction that makes the master ignore SIGCHLD.
 */
const STUB_SIZE = 0x2000;
const FILTER_PAGE = 0x1000;
const SIGACTION_AT = 0x1f00;
const STUB_CANDIDATES = [0x7fe000000000n, 0x7fd000000000n, 0x7fc000000000n, 0x7fb000000000n];
/** The top of the address range a stub may hold (the canonical user-space limit, page-aligned). */
const USER_TOP = 0x7ffffffff000n;

const SYS_mmap = 9;
const SYS_mprotect = 10;
const SYS_munmap = 11;
const SYS_clone = 56;
const SYS_exit = 60;
/** A thread of a stub (the stub filter allows exactly these flags). */
const THREAD_FLAGS = BigInt(STUB_THREAD_FLAGS);
const SYS_rseq = 334;
const SYS_close_range = 436;
const SYS_prctl = 157;
const SYS_rt_sigaction = 13;
const SIG_IGN = 1n;
const SYS_seccomp = 317;
const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
const PROT_READ_EXEC = 1 | 4;
const SIGCHLD = 17;
const SIGUSR1 = 10;
const SIGKILL = 9;
const SIGSEGV = 11;
/** si_code of a fault the kernel raises itself (a general-protection fault). */
const SI_KERNEL = 0x80;
const SIGTRAP = 5;
const SIGSTOP = 19;
const SIGSYS = 31;
const SYS_SECCOMP = 1;
const MAP_SHARED_FIXED = 0x01 | 0x10;
const SYSCALL_TRAP: Trap = Object.freeze({ kind: 'syscall' });
const INTERRUPTED: Trap = Object.freeze({ kind: 'interrupted' });
const SI_USER = 0;
const SI_TKILL = -6;

/** How another platform built on these stubs (systrap) sets them up differently. */
export interface StubOptions {
  /** The stubs' seccomp filter, given the descriptors the master keeps (the memfd first). */
  filter: (fds: readonly number[]) => Uint8Array;
  /** Where the filter must end in the stub's second page (an offset from the page block). */
  filterEnd: number;
  /** More descriptors (memory files) the master keeps. */
  extraFds: readonly HostFd[];
  /** Writes more data into the stub's second page, before it becomes read-only. */
  fillData: (pages: Uint8Array, stubAddr: bigint, code: StubCode) => string | undefined;
  /** Calls injected into the master after its clean-up, before its filter goes on. */
  setupMaster: (inject: (nr: number, args: bigint[]) => bigint) => string | undefined;
  /** Whether a stub's new threads are traced from birth (the ptrace platform's are). */
  traceClone: boolean;
}

export class PtracePlatform implements Platform {
  readonly name = 'ptrace';
  readonly maxUserAddress: bigint;
  private readonly stub: StubCode;
  private readonly stubAddr: bigint;
  private readonly switchFn: (pid: number, regs: Registers, status: Int32Array) => unknown;
  private readonly resumeFn: (pid: number, regs: Registers) => unknown;
  private readonly waitAnyFn: (pid: number, status: Int32Array, regs: Registers) => unknown;
  private readonly cyclesFn: () => unknown;
  private readonly master: Stub;
  private readonly status = new Int32Array(1);
  /** The CPUs application code may run on; the first is the Sentry's own. */
  readonly cpus: readonly number[];
  /** Every application stub thread, by host tid. */
  private readonly stubs = new Map<number, Stub>();
  /** Stops already collected (by an injection that had to stop a running thread). */
  private readonly ready: TrapEvent[] = [];
  private readonly waitStatus = new Int32Array(1);
  /** The stub threads started and not yet collected. */
  private readonly running = new Set<Stub>();
  private readonly waitRegs = new BigUint64Array(REG_COUNT);

  private constructor(
    stub: StubCode,
    stubAddr: bigint,
    masterPid: number,
    readonly memfd: HostFd,
    /** The CPUs the Sentry could run on before it pinned itself to the last of them. */
    cpus: readonly number[],
    private readonly options: StubOptions | undefined,
  ) {
    this.stub = stub;
    this.stubAddr = stubAddr;
    this.maxUserAddress = stubAddr;
    const fn = nativeFunction(
      stubAddr + BigInt(stub.switchEntry),
      'long moat_switch(int, void*, void*)',
    );
    this.switchFn = fn;
    this.resumeFn = nativeFunction(
      stubAddr + BigInt(stub.resumeEntry),
      'long moat_resume(int, void*)',
    );
    this.waitAnyFn = nativeFunction(
      stubAddr + BigInt(stub.waitAnyEntry),
      'long moat_waitany(int, void*, void*)',
    );
    this.cyclesFn = nativeFunction(stubAddr + BigInt(stub.cyclesEntry), 'uint64_t moat_cycles()');
    this.master = new Stub(this, masterPid, masterPid);
    const own = cpus[cpus.length - 1] ?? 0;
    this.cpus = [own, ...cpus.filter((c) => c !== own)];
  }

  /**
   * Creates the platform: assembles and places the stub page, pins the calling thread to one
   * CPU, forks the stub master and strips it. Must run before the Sentry confines itself.
   */
  static create(memfd: HostFd, options?: StubOptions): PtracePlatform | string {
    const stub = assembleStub();
    let addr = -1n;
    for (const cand of STUB_CANDIDATES) {
      if (mapCodeAt(cand, STUB_SIZE) === cand) {
        addr = cand;
        break;
      }
    }
    if (addr < 0n) return 'ptrace platform: no free address for the stub page';
    const page = new Uint8Array(viewOf(addr, STUB_SIZE));
    page.set(stub.code, 0);
    const fds = [memfd.fd, ...(options?.extraFds ?? []).map((f) => f.fd)];
    const filter = options ? options.filter(fds) : stubFilter(memfd.fd);
    const fprog = new DataView(page.buffer, FILTER_PAGE, 16);
    fprog.setUint16(0, filter.length / 8, true);
    fprog.setBigUint64(8, addr + BigInt(FILTER_PAGE + 16), true);
    if (FILTER_PAGE + 16 + filter.length > (options?.filterEnd ?? SIGACTION_AT))
      return 'ptrace platform: stub filter too long';
    page.set(filter, FILTER_PAGE + 16);
    const dataErr = options?.fillData(page, addr, stub);
    if (dataErr !== undefined) return dataErr;
    new DataView(page.buffer, SIGACTION_AT, 32).setBigUint64(0, SIG_IGN, true);
    const cpus = allowedCpus();
    const cpu = cpus[cpus.length - 1] ?? 0;
    pinToCpu(cpu);
    const forkFn = nativeFunction(addr + BigInt(stub.forkEntry), 'long moat_fork()');
    const pid = Number(forkFn());
    if (pid <= 0) return `ptrace platform: fork of the stub master failed: ${-pid}`;
    const p = new PtracePlatform(stub, addr, pid, memfd, cpus, options);
    const err = p.initMaster();
    if (err) {
      kill(pid, SIGKILL);
      wait4(pid, p.status, WALL);
      return err;
    }
    return p;
  }

  get gadgetAddr(): bigint {
    return this.stubAddr + BigInt(this.stub.gadget);
  }

  /** Where the stub page is (the same in the Sentry and in every stub), and its code. */
  get stubAddress(): bigint {
    return this.stubAddr;
  }

  get stubCode(): StubCode {
    return this.stub;
  }

  /** The stub page's listing, for debugging and docs. */
  get listing(): string {
    return this.stub.listing;
  }

  private initMaster(): string | undefined {
    const m = this.master;
    const st = m.waitStop();
    if (st !== SIGSTOP) return `ptrace platform: stub master did not stop (${st})`;
    if (
      ptraceVal(PTRACE_SETOPTIONS, m.pid, 0n, BigInt(PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK)) < 0
    ) {
      return 'ptrace platform: PTRACE_SETOPTIONS on the stub master failed';
    }
    m.captureTemplate();
    // glibc registered an rseq area in the forked thread's TLS; the kernel writes to it on
    // every return to user mode, so it must go before the memory holding it does.
    const rseq = new BigUint64Array(3);
    if (ptraceBuf(PTRACE_GET_RSEQ_CONFIGURATION, m.pid, 24n, rseq) > 0 && rseq[0] !== 0n) {
      const cfg = rseq[1] ?? 0n;
      const r = m.inject(SYS_rseq, [rseq[0] ?? 0n, cfg & 0xffffffffn, 1n, cfg >> 32n]);
      if (r < 0n) return `ptrace platform: rseq unregister failed: ${r}`;
    }
    // Stubs are the master's children: with SIGCHLD ignored, those the Sentry killed are
    // reaped by the host kernel instead of staying zombies of a master that never waits.
    const ign = m.inject(SYS_rt_sigaction, [
      BigInt(SIGCHLD),
      this.stubAddr + BigInt(SIGACTION_AT),
      0n,
      8n,
    ]);
    if (ign < 0n) return `ptrace platform: ignoring SIGCHLD in the stub master failed: ${ign}`;
    // Keep nothing but the stub page (and the vsyscall page, which cannot be unmapped).
    const lo = m.inject(SYS_munmap, [0x1000n, this.stubAddr - 0x1000n]);
    const hiStart = this.stubAddr + BigInt(STUB_SIZE);
    const hi = m.inject(SYS_munmap, [hiStart, USER_TOP - hiStart]);
    if (lo < 0n || hi < 0n) return `ptrace platform: stub master unmap failed: ${lo} ${hi}`;
    // Keep only the memory files' descriptors.
    const keep = [this.memfd.fd, ...(this.options?.extraFds ?? []).map((f) => f.fd)].sort(
      (x, y) => x - y,
    );
    let from = 0;
    for (const k of keep) {
      if (k > from) m.inject(SYS_close_range, [BigInt(from), BigInt(k - 1), 0n]);
      from = k + 1;
    }
    m.inject(SYS_close_range, [BigInt(from), 0xffffffffn, 0n]);
    const setupErr = this.options?.setupMaster((nr, args) => m.inject(nr, args));
    if (setupErr !== undefined) return setupErr;
    // The stub pages become read-only and the filter goes on: from here on, this process and
    // every stub forked from it can only make the calls stub_filter.ts allows.
    if (m.inject(SYS_mprotect, [this.stubAddr, BigInt(STUB_SIZE), BigInt(PROT_READ_EXEC)]) < 0n) {
      return 'ptrace platform: mprotect of the stub page failed';
    }
    if (m.inject(SYS_prctl, [BigInt(PR_SET_NO_NEW_PRIVS), 1n]) < 0n)
      return 'ptrace platform: no_new_privs failed';
    const f = m.inject(SYS_seccomp, [
      BigInt(SECCOMP_SET_MODE_FILTER),
      0n,
      this.stubAddr + BigInt(FILTER_PAGE),
    ]);
    if (f < 0n) return `ptrace platform: stub seccomp filter: ${f}`;
    return undefined;
  }

  newAddressSpace(): AddressSpace | number {
    const r = this.master.inject(SYS_clone, [BigInt(STUB_FORK_FLAGS), 0n, 0n, 0n, 0n]);
    // The master stops first with PTRACE_EVENT_FORK (handled inside inject), then at int3.
    if (r < 0n) return Number(r);
    const pid = Number(r);
    const child = new Stub(this, pid, pid);
    const st = child.waitStop();
    if (st !== SIGSTOP) return -Errno.EAGAIN;
    const opts =
      PTRACE_O_EXITKILL |
      PTRACE_O_TRACESYSGOOD |
      (this.options?.traceClone === false ? 0 : PTRACE_O_TRACECLONE);
    if (ptraceVal(PTRACE_SETOPTIONS, pid, 0n, BigInt(opts)) < 0) {
      child.kill();
      return -Errno.EAGAIN;
    }
    child.captureTemplate();
    const as = new PtraceAddressSpace(this, child);
    this.track(child);
    return as;
  }

  /** @internal A stub thread the run loop may start and collect. */
  track(stub: Stub): void {
    this.stubs.set(stub.pid, stub);
  }

  /** @internal A stub thread that is gone: nothing of it is collected any more. */
  untrack(stub: Stub): void {
    this.stubs.delete(stub.pid);
    for (let i = this.ready.length - 1; i >= 0; i--) {
      if (this.ready[i]?.ctx === stub.owner) this.ready.splice(i, 1);
    }
  }

  /** @internal Starts a stopped stub thread with `regs` on `cpu`, without waiting for it. */
  start(stub: Stub, regs: Registers, cpu: number): void {
    if (stub.dead) {
      this.pushDead(stub, 'stub gone');
      return;
    }
    if (cpu !== stub.cpu && cpu >= 0) {
      pinThreadToCpu(stub.pid, cpu);
      stub.cpu = cpu;
    }
    stub.regs = regs;
    const r = Number(this.resumeFn(stub.pid, regs));
    if (r < 0) {
      this.pushDead(stub, `resume failed: ${r}`);
      return;
    }
    this.setRunning(stub, true);
  }

  /** @internal */
  setRunning(stub: Stub, running: boolean): void {
    if (stub.running === running) return;
    stub.running = running;
    if (running) this.running.add(stub);
    else this.running.delete(stub);
  }

  private pushDead(stub: Stub, reason: string): void {
    if (stub.owner !== undefined)
      this.ready.push({ ctx: stub.owner, trap: { kind: 'dead', reason } });
  }

  /**
   * Waits for the next started stub thread to stop, and returns its trap (its registers are
   * in the buffer it was started with). Undefined when none is running.
   */
  waitAny(): TrapEvent | undefined {
    const r = this.ready.shift();
    if (r !== undefined) return r;
    for (;;) {
      if (this.running.size === 0) return undefined;
      // One running thread: wait for it alone (wait4(-1) looks at every tracee, and a
      // thousand parked threads are a thousand tracees).
      let only = -1;
      if (this.running.size === 1) for (const s of this.running) only = s.pid;
      const pid = Number(this.waitAnyFn(only, this.waitStatus, this.waitRegs));
      if (pid < 0) return undefined;
      const raw = this.waitStatus[0] ?? 0;
      const stub = this.stubs.get(pid);
      if (stub === undefined) {
        // The stub master stops for signals it ignores (its children's SIGCHLD): let it go.
        if (pid === this.master.pid && (raw & 0xff) === 0x7f) {
          ptraceVal(PTRACE_CONT, pid, 0n, 0n);
        }
        continue;
      }
      const e = this.collected(stub, raw);
      if (e !== undefined) return e;
    }
  }

  /** A stop or death of `stub` that waitAny or a recall collected, as a trap event. */
  private collected(stub: Stub, raw: number): TrapEvent | undefined {
    const stopped = (raw & 0xff) === 0x7f;
    const wasRunning = stub.running;
    this.setRunning(stub, false);
    if (!stopped) {
      stub.dead = true;
      this.stubs.delete(stub.pid);
    }
    // A stop or death of a thread nobody started: its next start reports it.
    if (!wasRunning) return undefined;
    const ctx = stub.owner;
    const regs = stub.regs;
    if (ctx === undefined || regs === undefined) return undefined;
    if (stopped) regs.set(this.waitRegs);
    return { ctx, trap: decodeTrap(stub, raw, 0, regs) };
  }

  /** Makes a started stub thread stop soon (its trap is then 'interrupted'). */
  interrupt(stub: Stub): void {
    if (stub.running) tgkill(stub.tgid, stub.pid, SIGUSR1);
  }

  /**
   * @internal Stops a running stub thread before a system call is injected into it: its stop
   * is kept for waitAny to return.
   */
  recall(stub: Stub): void {
    if (!stub.running) return;
    tgkill(stub.tgid, stub.pid, SIGUSR1);
    for (;;) {
      const r = wait4(stub.pid, this.waitStatus, WALL);
      if (r === -Errno.EINTR) continue;
      if (r < 0) {
        this.setRunning(stub, false);
        stub.dead = true;
        this.pushDead(stub, 'stub gone');
        return;
      }
      const raw = this.waitStatus[0] ?? 0;
      if ((raw & 0xff) === 0x7f) ptraceBuf(PTRACE_GETREGS, stub.pid, 0n, this.waitRegs);
      const e = this.collected(stub, raw);
      if (e !== undefined) this.ready.push(e);
      return;
    }
  }

  /** @internal */
  runSwitch(pid: number, regs: Registers, status: Int32Array): number {
    return Number(this.switchFn(pid, regs, status));
  }

  /** The host CPU's time-stamp counter, read in the Sentry (for the vDSO's clock). */
  readCycles(): bigint {
    const v = this.cyclesFn();
    return typeof v === 'bigint' ? v : BigInt(v as number);
  }

  /** Ends the stub master (and, through PTRACE_O_EXITKILL, nothing else: stubs have their own). */
  release(): void {
    this.master.kill();
    // The stub page's address is one of a few fixed candidates: give it back, or a process
    // that makes platforms one after another (the unit tests) runs out of them.
    unmap(this.stubAddress, STUB_SIZE);
  }
}

/** One traced host thread (a stub process's first thread, or another of its threads). */
class Stub {
  private template: Registers = new BigUint64Array(REG_COUNT);
  private readonly scratch = new BigUint64Array(REG_COUNT);
  readonly status = new Int32Array(1);
  readonly siginfo = new Uint8Array(128);
  dead = false;
  /** Started and not yet collected. */
  running = false;
  /** The CPU it is pinned to (-1: the one it inherited). */
  cpu = -1;
  /** The registers it was started with; its stop is written there. */
  regs: Registers | undefined;
  /** The context the kernel knows it by. */
  owner: ThreadContext | undefined;

  constructor(
    private readonly platform: PtracePlatform,
    readonly pid: number,
    /** Its thread group (the stub process), for tgkill. */
    readonly tgid: number,
  ) {}

  /** Waits for the next stop; returns the stop signal, or -1 if the process is gone. */
  waitStop(): number {
    for (;;) {
      const r = wait4(this.pid, this.status, WALL);
      if (r === -Errno.EINTR) continue;
      if (r < 0) return -1;
      const s = decodeWaitStatus(this.status[0] ?? 0);
      if (s.stopped) return s.stopSignal;
      this.dead = true;
      return -1;
    }
  }

  captureTemplate(): void {
    ptraceBuf(PTRACE_GETREGS, this.pid, 0n, this.template);
  }

  initialRegisters(): Registers {
    return this.template.slice();
  }

  /**
   * Runs one host system call in this stub (stopped first if running) through the gadget (or
   * the one at `at`, which must stop at int3 the same way); its result or -errno.
   */
  inject(nr: number, args: bigint[], at?: bigint): bigint {
    this.platform.recall(this);
    const r = this.scratch;
    r.set(this.template);
    r[Reg.rax] = BigInt(nr);
    r[Reg.orig_rax] = BigInt(nr);
    r[Reg.rdi] = args[0] ?? 0n;
    r[Reg.rsi] = args[1] ?? 0n;
    r[Reg.rdx] = args[2] ?? 0n;
    r[Reg.r10] = args[3] ?? 0n;
    r[Reg.r8] = args[4] ?? 0n;
    r[Reg.r9] = args[5] ?? 0n;
    r[Reg.rip] = at ?? this.platform.gadgetAddr;
    if (ptraceBuf(PTRACE_SETREGS, this.pid, 0n, r) < 0) return -BigInt(Errno.ESRCH);
    if (ptraceVal(PTRACE_CONT, this.pid, 0n, 0n) < 0) return -BigInt(Errno.ESRCH);
    let forked = -1n;
    for (;;) {
      const sig = this.waitStop();
      if (sig < 0) return -BigInt(Errno.ESRCH);
      const event = ((this.status[0] ?? 0) >> 16) & 0xff;
      if (sig === SIGTRAP && event !== 0) {
        // PTRACE_EVENT_FORK: remember the child's pid and carry on to the int3.
        const msg = new BigUint64Array(1);
        ptraceBuf(PTRACE_GETEVENTMSG, this.pid, 0n, msg);
        forked = msg[0] ?? -1n;
        ptraceVal(PTRACE_CONT, this.pid, 0n, 0n);
        continue;
      }
      if (sig === SIGCHLD || sig === SIGUSR1) {
        // A stub of the master's ended (the master is traced, so even an ignored signal
        // stops it), or the control worker's kick reached this thread (a kick is aimed at the
        // stub's thread group and any of its threads may take it): suppress it and go on to
        // the int3. The main loop looks at pending control requests after every call anyway.
        ptraceVal(PTRACE_CONT, this.pid, 0n, 0n);
        continue;
      }
      if (sig !== SIGTRAP) return -BigInt(Errno.EFAULT);
      break;
    }
    if (ptraceBuf(PTRACE_GETREGS, this.pid, 0n, r) < 0) return -BigInt(Errno.ESRCH);
    const ret = BigInt.asIntN(64, r[Reg.rax] ?? 0n);
    if (nr === SYS_clone && ret > 0n && forked > 0n) return forked;
    return ret;
  }

  kill(): void {
    if (this.dead) return;
    kill(this.pid, SIGKILL);
    this.reap();
  }

  /** Runs it until its next trap and waits for that (the synchronous path). */
  switchTo(regs: Registers): Trap {
    if (this.dead) return { kind: 'dead', reason: 'stub gone' };
    this.platform.recall(this);
    const r = this.platform.runSwitch(this.pid, regs, this.status);
    return decodeTrap(this, this.status[0] ?? 0, r, regs);
  }

  /** Waits for this (dying) thread to be gone. */
  reap(): void {
    if (this.dead) return;
    for (;;) {
      const r = wait4(this.pid, this.status, WALL);
      if (r === -Errno.EINTR) continue;
      if (r < 0) break;
      const s = decodeWaitStatus(this.status[0] ?? 0);
      if (!s.stopped) break;
      // A stop on the way out (a pending signal): let it go on to its death.
      ptraceVal(PTRACE_CONT, this.pid, 0n, 0n);
    }
    this.dead = true;
    this.platform.setRunning(this, false);
    this.platform.untrack(this);
  }
}

/**
 * What a stop of `stub` (wait status `raw`, registers already in `regs`) means to the kernel.
 * `r` is the switch routine's result (negative: it failed).
 */
function decodeTrap(stub: Stub, raw: number, r: number, regs: Registers): Trap {
  // The hot case first, without allocating: a PTRACE_SYSEMU stop (SIGTRAP | 0x80).
  if (r >= 0 && (raw & 0xffff) === (((SIGTRAP | 0x80) << 8) | 0x7f)) {
    // `syscall` leaves its return address in rcx, so the kernel's saved rcx equals rip. An
    // `int 0x80` or `sysenter` (the i386 ABI, which the Sentry does not implement) does not:
    // it faults as on a kernel without IA-32 emulation (#GP: SIGSEGV, SI_KERNEL), instead of
    // being taken for the 64-bit call of the same number.
    if (regs[Reg.rcx] === regs[Reg.rip]) return SYSCALL_TRAP;
    regs[Reg.rip] = (regs[Reg.rip] ?? 0n) - 2n;
    return { kind: 'signal', signo: SIGSEGV, addr: 0n, code: SI_KERNEL };
  }
  const s = decodeWaitStatus(raw);
  if (!s.stopped) {
    stub.dead = true;
    return {
      kind: 'dead',
      reason: s.exited ? `stub exited ${s.code}` : `stub killed by signal ${s.signal}`,
    };
  }
  if (r < 0) return { kind: 'dead', reason: `switch failed: ${r}` };
  // A signal stop: a fault of the application, or a signal sent to the stub from outside.
  const siginfo = stub.siginfo;
  ptraceBuf(PTRACE_GETSIGINFO, stub.pid, 0n, siginfo);
  const dv = new DataView(siginfo.buffer);
  const code = dv.getInt32(8, true);
  const addr = dv.getBigUint64(16, true);
  if (s.stopSignal === SIGSYS && code === SYS_SECCOMP) {
    // A vsyscall-page call (see stub_filter.ts): the kernel already made the emulated
    // `ret`; the call is emulated like a trapped one, its number from si_syscall.
    regs[Reg.orig_rax] = BigInt(dv.getInt32(24, true));
    return SYSCALL_TRAP;
  }
  // The control plane's or the run loop's kick, or a stray stop signal: never the
  // application's (resuming discards it).
  if (
    (s.stopSignal === SIGUSR1 && (code === SI_USER || code === SI_TKILL)) ||
    (s.stopSignal === SIGSTOP && code <= 0)
  ) {
    return INTERRUPTED;
  }
  return { kind: 'signal', signo: s.stopSignal, addr, code };
}

/**
 * The size of the host's XSAVE image (0 until known, -1 where ptrace cannot read it: the
 * 512-byte fxsave image is then the whole FP state).
 */
let xsaveSize = 0;
const LEGACY_FP = FP_LEGACY_SIZE;
/** x87 and SSE: the components a legacy image holds. */
const XFEATURES_FP_SSE = 3n;

function getFp(stub: Stub): Uint8Array | number {
  if (xsaveSize >= 0) {
    const x = ptraceGetRegset(stub.pid, NT_X86_XSTATE);
    if (typeof x !== 'number' && x.length > LEGACY_FP) {
      xsaveSize = x.length;
      return x;
    }
    if (x === -Errno.ESRCH) return x;
    xsaveSize = -1;
  }
  const b = new Uint8Array(LEGACY_FP);
  const r = ptraceBuf(PTRACE_GETFPREGS, stub.pid, 0n, b);
  return r < 0 ? r : b;
}

/**
 * Sets the FP state from an XSAVE image (padded or cut to the host's size) or a 512-byte
 * fxsave image (whose other components then take their initial state, as Linux restores a
 * legacy frame).
 */
function setFp(stub: Stub, state: Uint8Array): number {
  const bad = fpImageProblem(state);
  if (bad < 0) return bad;
  if (xsaveSize === 0) {
    const probe = getFp(stub);
    if (typeof probe === 'number') return probe;
  }
  if (xsaveSize < 0) return ptraceBuf(PTRACE_SETFPREGS, stub.pid, 0n, state.subarray(0, LEGACY_FP));
  const image = new Uint8Array(xsaveSize);
  image.set(state.subarray(0, Math.min(state.length, xsaveSize)));
  if (state.length === LEGACY_FP) {
    new DataView(image.buffer).setBigUint64(LEGACY_FP, XFEATURES_FP_SSE, true);
  }
  return ptraceSetRegset(stub.pid, NT_X86_XSTATE, image);
}

/** A second (third…) thread of a stub process. */
class PtraceThread implements ThreadContext {
  constructor(
    private readonly platform: PtracePlatform,
    readonly stub: Stub,
  ) {
    stub.owner = this;
  }

  get hostPid(): number {
    return this.stub.pid;
  }

  get alive(): boolean {
    return !this.stub.dead;
  }

  switchTo(regs: Registers): Trap {
    return this.stub.switchTo(regs);
  }

  start(regs: Registers, cpu: number): void {
    this.platform.start(this.stub, regs, cpu);
  }

  interrupt(): void {
    this.platform.interrupt(this.stub);
  }

  getFpState(): Uint8Array | number {
    return getFp(this.stub);
  }

  setFpState(state: Uint8Array): number {
    return setFp(this.stub, state);
  }
}

/** An application address space: one stub process; its first thread runs the first task. */
export class PtraceAddressSpace implements AddressSpace {
  private readonly threads = new Set<PtraceThread>();

  constructor(
    private readonly platform: PtracePlatform,
    private readonly stub: Stub,
  ) {
    stub.owner = this;
  }

  get hostPid(): number {
    return this.stub.pid;
  }

  get alive(): boolean {
    return !this.stub.dead;
  }

  start(regs: Registers, cpu: number): void {
    this.platform.start(this.stub, regs, cpu);
  }

  interrupt(): void {
    this.platform.interrupt(this.stub);
  }

  map(addr: bigint, len: number, offset: number, prot: number): number {
    const fd = BigInt(this.platform.memfd.fd);
    const r = this.stub.inject(SYS_mmap, [
      addr,
      BigInt(len),
      BigInt(prot),
      BigInt(MAP_SHARED_FIXED),
      fd,
      BigInt(offset),
    ]);
    if (r < 0n) return Number(r);
    return r === addr ? 0 : -Errno.ENOMEM;
  }

  unmap(addr: bigint, len: number): number {
    return Number(this.stub.inject(SYS_munmap, [addr, BigInt(len)]));
  }

  protect(addr: bigint, len: number, prot: number): number {
    return Number(this.stub.inject(SYS_mprotect, [addr, BigInt(len), BigInt(prot)]));
  }

  initialRegisters(): Registers {
    return this.stub.initialRegisters();
  }

  /** @internal Runs one host call in this stub process (see Stub.inject); for systrap. */
  injectCall(nr: number, args: bigint[], at?: bigint): bigint {
    return this.stub.inject(nr, args, at);
  }

  getFpState(): Uint8Array | number {
    return getFp(this.stub);
  }

  setFpState(state: Uint8Array): number {
    return setFp(this.stub, state);
  }

  switchTo(regs: Registers): Trap {
    return this.stub.switchTo(regs);
  }

  newThread(): ThreadContext | number {
    // The new host thread is traced from birth (PTRACE_O_TRACECLONE) and stops at once.
    const r = this.stub.inject(SYS_clone, [THREAD_FLAGS, 0n, 0n, 0n, 0n]);
    if (r < 0n) return Number(r);
    const stub = new Stub(this.platform, Number(r), this.stub.pid);
    if (stub.waitStop() < 0) return -Errno.EAGAIN;
    // Valid segment registers for the calls injected into it later (its exit).
    stub.captureTemplate();
    const t = new PtraceThread(this.platform, stub);
    this.threads.add(t);
    this.platform.track(stub);
    return t;
  }

  endThread(t: ThreadContext): void {
    if (!(t instanceof PtraceThread) || !this.threads.has(t)) return;
    this.threads.delete(t);
    t.stub.inject(SYS_exit, [0n]);
    t.stub.reap();
  }

  release(): void {
    // SIGKILL ends the whole thread group; each traced thread is reaped on its own, the
    // leader last (the kernel reports a group leader's death only after its threads').
    if (!this.stub.dead) kill(this.stub.pid, SIGKILL);
    for (const t of this.threads) t.stub.reap();
    this.threads.clear();
    this.stub.reap();
  }
}
