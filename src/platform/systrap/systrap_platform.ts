// The systrap platform: application threads run in the same host stub processes as on the
// ptrace platform, but they are not traced. Each carries a second seccomp filter that turns
// every one of its system calls into SIGSYS (SECCOMP_RET_TRAP); the stub's handler, on the
// thread's own signal stack, leaves the signal frame where the Sentry can read it (a shared
// "threads file", one area per thread), flips the thread's state word and waits on it — spinning
// a little, then in FUTEX_WAIT. The Sentry waits for the words of all running threads at once
// (futex_waitv), reads and writes registers and FP state in the frame itself, and resumes the
// thread with one store (and a FUTEX_WAKE only if it sleeps). Faults and the Sentry's kick
// (SIGUSR1) arrive through the same handler.
//
// Address-space changes (mmap of the memory file, munmap, mprotect) and new threads go through
// the address space's *executor*: the stub process's first thread, which is traced as on the
// ptrace platform, keeps the memory files' descriptors, never runs application code and shares
// the address space with the application threads. So the application threads hold no
// descriptor at all, and the calls they may make from the stub's `sys` site (futex,
// rt_sigreturn, exit, arch_prctl for FS/GS, sched_yield) reach nothing beyond their process.
//
// It must never execute an application system call on the host and never trust the message
// pages: any application thread of a process can write its process's areas, so every pointer
// read from one is checked to lie inside that thread's area, and a corrupt area costs only that
// process (its task is reported dead).

import type { HostFd } from '../../host/fd.js';
import {
  discard,
  mapAnonymous,
  mapShared,
  memfdCreate,
  nativeFunction,
  viewOf,
} from '../../host/memory.js';
import { pinThreadToCpu, tgkill } from '../../host/ptrace.js';
import { Errno } from '../../abi/linux/errno.js';
import {
  FP_LEGACY_SIZE,
  FP_SW_BYTES,
  FP_XSTATE_MAGIC1,
  FP_XSTATE_MAGIC2,
  fpImageProblem,
  MCONTEXT_GREGS,
  REG_COUNT,
  Reg,
  UC_MCONTEXT,
  UC_SIGMASK,
  type AddressSpace,
  type Platform,
  type Registers,
  type ThreadContext,
  type Trap,
  type TrapEvent,
} from '../platform.js';
import { PtracePlatform, type PtraceAddressSpace } from '../ptrace/ptrace_platform.js';
import {
  APP_FILTER_END,
  AREAS_OFFSET,
  AREA_SIZE,
  BASE_FILTER_END,
  DATA,
  FIRST_FPSTATE_AT,
  FIRST_FRAME_AT,
  FLAG_SET_FS,
  FLAG_SET_GS,
  MAX_THREADS,
  MSG,
  MSG_PAGE,
  STATE_EXIT,
  STATE_INIT,
  STATE_RUNNING,
  STATE_TRAPPED,
  STATE_WAITERS,
} from './systrap_layout.js';
import { SYSTRAP_THREAD_FLAGS, systrapAppFilter, systrapBaseFilter } from './systrap_filter.js';

const SYS_rt_sigaction = 13;
const SYS_rt_sigprocmask = 14;
const SYS_mmap = 9;
const SYS_munmap = 11;
const SYS_clone = 56;
const SIGTRAP = 5;
const SIGILL = 4;
const SIGBUS = 7;
const SIGFPE = 8;
const SIGUSR1 = 10;
const SIGSEGV = 11;
const SIGSYS = 31;
const SIGKILL = 9;
/** The executor's signal mask: all but the faults and traps a thread raises itself. */
const EXECUTOR_MASK =
  0xffffffffffffffffn &
  ~[SIGSYS, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP].reduce(
    (m, s) => m | (1n << BigInt(s - 1)),
    0n,
  );
/** The host signals an application thread's handler takes. */
const HANDLED = [SIGSYS, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGUSR1];
const SA_SIGINFO = 4;
const SA_ONSTACK = 0x08000000;
const SA_RESTORER = 0x04000000;
const SYS_SECCOMP = 1;
const SI_USER = 0;
const SI_TKILL = -6;
const SI_KERNEL = 0x80;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const PROT_RW = 3;
const MAP_SHARED_FIXED = 0x01 | 0x10;
const ETIMEDOUT = 110;
const UC_SIGCONTEXT_SS = 2;
const UC_STRICT_RESTORE_SS = 4;
const LEGACY_FP = FP_LEGACY_SIZE;
/** ucontext: uc_flags 0, uc_link 8, uc_stack 16 (sp, flags, size), mcontext, sigmask. */
const UC_STACK = 16;
const UC_FPSTATE = UC_MCONTEXT + 23 * 8;
const UC_SIZE = UC_SIGMASK + 8;
const SIGINFO_SIZE = 128;
/** mcontext gregs order → user_regs_struct index: the general registers, then eflags. */
const GREGS: readonly number[] = [...MCONTEXT_GREGS, Reg.eflags];
const GREG_CSGSFS = 18;
const SYSCALL_TRAP: Trap = Object.freeze({ kind: 'syscall' });
const INTERRUPTED: Trap = Object.freeze({ kind: 'interrupted' });
/** The Sentry's spin (scan rounds) and a stub's (pause loops) when they are on different CPUs. */
const SENTRY_SPINS = 5000;
const STUB_SPINS = 300;
/** How long a wait may pass without any news before the running threads are checked. */
const LIVENESS_NS = 1_000_000_000n;
/**
 * How long a thread may ignore the kick. Only a thread that blocked SIGUSR1 on the host can
 * (by returning through a frame it forged from the stub's syscall site): its process is
 * killed, or `moat kill` could never reach it.
 */
const KICK_GRACE_NS = 5_000_000_000n;
const WAITV_ENTRY = 24;
const WAITV_MAX = 128;

export interface SystrapOptions {
  /** The host lets user code use rdfsbase/wrfsbase (AT_HWCAP2 bit 1). */
  fsgsbase: boolean;
}

export class SystrapPlatform implements Platform {
  readonly name = 'systrap';
  readonly maxUserAddress: bigint;
  readonly cpus: readonly number[];
  /** The CPU the Sentry is pinned to. */
  readonly sentryCpu: number;
  /** The areas of the threads file, mapped in the Sentry. */
  private readonly areas: ArrayBuffer;
  private readonly areasAddr: bigint;
  /** Stub addresses of the areas. */
  readonly stubAreas: bigint;
  private readonly freeSlots: number[] = [];
  /** The threads started and not yet collected. */
  readonly running = new Set<SystrapThread>();
  private readonly ready: TrapEvent[] = [];
  private readonly waitFn: (...a: unknown[]) => unknown;
  private readonly wakeFn: (...a: unknown[]) => unknown;
  /** futex_waitv entries and the deadline timespec, in memory the kernel reads. */
  private readonly waitv: DataView;
  private readonly waitvAddr: bigint;
  private readonly order: SystrapThread[] = [];
  readonly cloneGadget: bigint;
  /** The host's XSAVE signal-frame trailer (fpx_sw_bytes), once seen in a frame. */
  swBytes: Uint8Array | undefined;
  readonly fsgsbase: boolean;

  private constructor(
    readonly base: PtracePlatform,
    readonly threadsFd: HostFd,
    areasAddr: bigint,
    opts: SystrapOptions,
  ) {
    this.maxUserAddress = base.maxUserAddress;
    // Lane 0 (where the run loop keeps threads that trap often) is the Sentry's own CPU, as on
    // ptrace. Putting it on another CPU, where the thread and the Sentry both spin, made a
    // lone thread's calls a third faster but pipes, forks and two compute threads slower
    // (parked stubs spinning on a CPU another thread needed): see docs/architecture.md.
    this.sentryCpu = base.cpus[0] ?? -1;
    this.cpus = base.cpus;
    this.areasAddr = areasAddr;
    this.areas = viewOf(areasAddr, MAX_THREADS * AREA_SIZE);
    this.stubAreas = base.stubAddress + AREAS_OFFSET;
    for (let i = MAX_THREADS - 1; i >= 0; i--) this.freeSlots.push(i);
    const code = base.stubCode.systrap;
    this.waitFn = nativeFunction(
      base.stubAddress + BigInt(code.wait),
      'long st_wait(uint64_t, uint64_t, uint64_t, uint64_t)',
    );
    this.wakeFn = nativeFunction(base.stubAddress + BigInt(code.wake), 'long st_wake(uint64_t)');
    this.cloneGadget = base.stubAddress + BigInt(code.cloneGadget);
    const page = mapAnonymous(4096);
    if (page < 0n) throw new Error('systrap: no memory for the wait list');
    this.waitvAddr = page;
    this.waitv = new DataView(viewOf(page, 4096));
    this.fsgsbase = opts.fsgsbase;
  }

  /** Creates the platform (before the Sentry confines itself): the threads file and the stubs. */
  static create(memfd: HostFd, opts: SystrapOptions): SystrapPlatform | string {
    const size = MAX_THREADS * AREA_SIZE;
    const tf = memfdCreate('moat-threads', size);
    if (typeof tf === 'number') return `systrap platform: threads file: ${-tf}`;
    const addr = mapShared(tf, size, 0);
    if (addr < 0n) {
      tf.close();
      return 'systrap platform: mapping the threads file failed';
    }
    let stubAddr = 0n;
    const base = PtracePlatform.create(memfd, {
      filter: (fds) => systrapBaseFilter(fds),
      filterEnd: BASE_FILTER_END,
      extraFds: [tf],
      traceClone: false,
      fillData: (page, at, code) => {
        stubAddr = at;
        const app = systrapAppFilter(at + BigInt(code.systrap.sys + 2));
        if (DATA.appFprog + 16 + app.length > APP_FILTER_END)
          return 'systrap platform: application filter too long';
        const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
        dv.setUint16(DATA.appFprog, app.length / 8, true);
        dv.setBigUint64(DATA.appFprog + 8, at + BigInt(DATA.appFprog + 16), true);
        page.set(app, DATA.appFprog + 16);
        dv.setBigUint64(DATA.handlerAction, at + BigInt(code.systrap.handler), true);
        dv.setBigUint64(
          DATA.handlerAction + 8,
          BigInt(SA_SIGINFO | SA_ONSTACK | SA_RESTORER),
          true,
        );
        dv.setBigUint64(DATA.handlerAction + 16, at + BigInt(code.systrap.restorer), true);
        dv.setBigUint64(DATA.handlerAction + 24, 0xffffffffffffffffn, true);
        dv.setUint32(DATA.fsgsbase, opts.fsgsbase ? 1 : 0, true);
        dv.setBigUint64(DATA.allSignals, EXECUTOR_MASK, true);
        return undefined;
      },
      setupMaster: (inject) => {
        // Every signal but the synchronous ones blocked in the master, so in every executor,
        // so in every new application thread from its first instruction: a process-directed
        // signal (the control worker's kick) must never run the handler in a thread that has
        // not yet closed its descriptors and installed the application filter — the handler
        // would report it ready, and it would run application code under the base filter
        // alone. The synchronous ones stay open: one the executor raises itself (its int3)
        // while blocked would reset the process's handler to the default.
        const m = inject(SYS_rt_sigprocmask, [2n, stubAddr + BigInt(DATA.allSignals), 0n, 8n]);
        if (m < 0n) return `systrap platform: rt_sigprocmask: ${m}`;
        // Every stub forked from the master inherits the handler (its executor threads block
        // nothing, but they are traced and never run where a signal could reach the handler).
        for (const sig of HANDLED) {
          const r = inject(SYS_rt_sigaction, [
            BigInt(sig),
            stubAddr + BigInt(DATA.handlerAction),
            0n,
            8n,
          ]);
          if (r < 0n) return `systrap platform: rt_sigaction(${sig}): ${r}`;
        }
        return undefined;
      },
    });
    if (typeof base === 'string') {
      tf.close();
      return base;
    }
    try {
      return new SystrapPlatform(base, tf, addr, opts);
    } catch (e) {
      base.release();
      tf.close();
      return e instanceof Error ? e.message : String(e);
    }
  }

  readCycles(): bigint {
    return this.base.readCycles();
  }

  newAddressSpace(): AddressSpace | number {
    const ex = this.base.newAddressSpace();
    if (typeof ex === 'number') return ex;
    const as = new SystrapAddressSpace(this, ex as PtraceAddressSpace);
    const first = as.spawn();
    if (typeof first === 'number') {
      ex.release();
      return first;
    }
    // The address space is also the context of its first thread.
    first.owner = as;
    as.first = first;
    return as;
  }

  /** @internal A free area slot, or -1. */
  allocSlot(): number {
    return this.freeSlots.pop() ?? -1;
  }

  /** @internal Gives a slot back, its memory released. */
  freeSlot(slot: number): void {
    discard(this.areasAddr + BigInt(slot * AREA_SIZE), AREA_SIZE);
    this.freeSlots.push(slot);
  }

  /** @internal The Sentry's view of a slot's area. */
  areaView(slot: number): DataView {
    return new DataView(this.areas, slot * AREA_SIZE, AREA_SIZE);
  }

  /** @internal The Sentry's address of a slot's area. */
  areaAddr(slot: number): bigint {
    return this.areasAddr + BigInt(slot * AREA_SIZE);
  }

  /** @internal Wakes a stub sleeping on its state word. */
  wake(t: SystrapThread): void {
    this.wakeFn(t.stateAddr);
  }

  /**
   * @internal Waits until one of `words` leaves its value. The first `narm` are state words
   * (armed with STATE_WAITERS before sleeping). Returns its index, -ETIMEDOUT, or -errno.
   */
  waitWords(words: ReadonlyArray<[bigint, number]>, narm: number, ns: bigint): number {
    const n = Math.min(words.length, WAITV_MAX);
    for (let i = 0; i < n; i++) {
      const w = words[i];
      if (w === undefined) break;
      const o = i * WAITV_ENTRY;
      this.waitv.setBigUint64(o, BigInt(w[1] >>> 0), true);
      this.waitv.setBigUint64(o + 8, w[0], true);
      this.waitv.setUint32(o + 16, 2, true); // FUTEX2_SIZE_U32, shared
      this.waitv.setUint32(o + 20, 0, true);
    }
    const ts = WAITV_MAX * WAITV_ENTRY;
    const deadline = process.hrtime.bigint() + ns;
    this.waitv.setBigInt64(ts, deadline / 1_000_000_000n, true);
    this.waitv.setBigInt64(ts + 8, deadline % 1_000_000_000n, true);
    return Number(
      this.waitFn(this.waitvAddr, BigInt(n), BigInt(narm), this.waitvAddr + BigInt(ts)),
    );
  }

  waitAny(): TrapEvent | undefined {
    const r = this.ready.shift();
    if (r !== undefined) return r;
    return this.waitRunning();
  }

  /** The next stop of a running thread (stops already queued are left where they are). */
  private waitRunning(): TrapEvent | undefined {
    const words: Array<[bigint, number]> = [];
    for (;;) {
      if (this.running.size === 0) return undefined;
      const order = this.order;
      order.length = 0;
      words.length = 0;
      let spins = 0;
      const own = this.sentryCpu;
      // Spin only while every running thread is on another CPU: one on the Sentry's own would
      // wait for the CPU the Sentry spins on.
      let sameCpu = false;
      for (const t of this.running) {
        if (order.length * 2 >= WAITV_MAX) break;
        order.push(t);
        if (t.cpu === own || t.cpu < 0) sameCpu = true;
      }
      if (!sameCpu) spins = SENTRY_SPINS;
      // Spin here first, in JavaScript: a stop seen now costs no call into native code.
      for (let k = 0; k < spins; k++) {
        for (let j = 0; j < order.length; j++) {
          const t = order[j] as SystrapThread;
          // Running, or running with the word armed by an earlier sleep.
          if ((Atomics.load(t.words, 0) & ~STATE_WAITERS) !== STATE_RUNNING) return t.collect();
        }
      }
      for (const t of order) words.push([t.stateAddr, STATE_RUNNING | STATE_WAITERS]);
      for (const t of order) words.push([t.tidAddr, t.tid]);
      const i = this.waitWords(words, order.length, LIVENESS_NS);
      if (i === -ETIMEDOUT) {
        // A second without news: kick every running thread (so that the run loop looks at
        // the control state even if the control worker's kick went to another thread), and
        // end any that is gone or has ignored kicks for KICK_GRACE_NS.
        const now = process.hrtime.bigint();
        for (const t of order) {
          if (tgkill(t.tgid, t.tid, 0) < 0) this.ready.push(t.died('stub gone'));
          else if (t.kickedAt === 0n) t.interrupt();
          else if (now - t.kickedAt > KICK_GRACE_NS) {
            tgkill(t.tgid, t.tid, SIGKILL);
            this.ready.push(t.died('stub thread ignored the kick (host SIGUSR1 blocked)'));
          } else tgkill(t.tgid, t.tid, SIGUSR1);
        }
        const e = this.ready.shift();
        if (e !== undefined) return e;
        continue;
      }
      if (i < 0) throw new Error(`systrap platform: futex_waitv failed: ${-i}`);
      const t = order[i < order.length ? i : i - order.length];
      if (t === undefined) continue;
      return t.collect();
    }
  }

  /** @internal Waits for a started thread's stop, keeping other stops for waitAny. */
  collectOne(t: SystrapThread): TrapEvent {
    const i = this.ready.findIndex((e) => e.ctx === t.owner);
    if (i >= 0) return this.ready.splice(i, 1)[0] as TrapEvent;
    for (;;) {
      // Others' stops queue for waitAny; waiting goes on for the running threads only.
      const e = this.waitRunning();
      if (e === undefined) return t.died('not running');
      if (e.ctx === t.owner) return e;
      this.ready.push(e);
    }
  }

  /** @internal Forgets the pending stops of a context that is going away. */
  forget(ctx: ThreadContext): void {
    for (let i = this.ready.length - 1; i >= 0; i--) {
      if (this.ready[i]?.ctx === ctx) this.ready.splice(i, 1);
    }
  }

  /** @internal A stop collected out of order (a recall), for waitAny. */
  pushReady(e: TrapEvent): void {
    this.ready.push(e);
  }

  release(): void {
    this.base.release();
    this.threadsFd.close();
  }
}

/** One application thread: its area slot, host tid and what the Sentry knows of its state. */
export class SystrapThread {
  dead = false;
  running = false;
  cpu = -1;
  tid = 0;
  /** Stopped in the handler: `ucOff` is its kernel frame's ucontext in the area. */
  inFrame = false;
  ucOff = 0;
  knownFs = 0n;
  knownGs = 0n;
  /** When it was kicked and has not stopped since (0n: not kicked). */
  kickedAt = 0n;
  pendingFp: Uint8Array | undefined;
  regs: Registers | undefined;
  /** The context the kernel knows it by. */
  owner: ThreadContext | undefined;
  readonly area: DataView;
  readonly words: Int32Array;
  readonly sentryBase: bigint;
  readonly stubBase: bigint;
  /** The Sentry's addresses of its state and tid words. */
  readonly stateAddr: bigint;
  readonly tidAddr: bigint;

  constructor(
    private readonly platform: SystrapPlatform,
    readonly slot: number,
    /** Its stub process (for tgkill). */
    readonly tgid: number,
  ) {
    this.area = platform.areaView(slot);
    this.words = new Int32Array(this.area.buffer, this.area.byteOffset, 16);
    this.sentryBase = platform.areaAddr(slot);
    this.stateAddr = this.sentryBase + BigInt(MSG.state);
    this.tidAddr = this.sentryBase + BigInt(MSG.tid);
    this.stubBase = platform.stubAreas + BigInt(slot * AREA_SIZE);
  }

  /** A 'dead' event for this thread (and it is marked dead). */
  died(reason: string): TrapEvent {
    this.dead = true;
    this.setRunning(false);
    return { ctx: this.owner as ThreadContext, trap: { kind: 'dead', reason } };
  }

  setRunning(on: boolean): void {
    if (this.running === on) return;
    this.running = on;
    if (on) this.platform.running.add(this);
    else this.platform.running.delete(this);
  }

  /** An offset in the area from a stub address read from the message page, or -1. */
  private offsetOf(addr: bigint, size: number): number {
    const off = addr - this.stubBase;
    if (off < BigInt(MSG_PAGE) || off > BigInt(AREA_SIZE - size)) return -1;
    return Number(off);
  }

  start(regs: Registers, cpu: number): void {
    const p = this.platform;
    if (this.dead) {
      p.pushReady(this.died('stub gone'));
      return;
    }
    if (cpu >= 0 && cpu !== this.cpu) {
      pinThreadToCpu(this.tid, cpu);
      this.cpu = cpu;
    }
    this.regs = regs;
    const a = this.area;
    let uc = this.ucOff;
    if (!this.inFrame) {
      uc = FIRST_FRAME_AT;
      for (let i = 0; i < UC_SIZE; i += 8) a.setBigUint64(uc + i, 0n, true);
      a.setBigUint64(uc, BigInt(UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), true);
      a.setBigUint64(uc + UC_STACK, this.stubBase + BigInt(MSG_PAGE), true);
      a.setBigUint64(uc + UC_STACK + 16, BigInt(AREA_SIZE - MSG_PAGE), true);
      a.setBigUint64(uc + UC_FPSTATE, this.placeFirstFp(), true);
      a.setBigUint64(MSG.uctx, this.stubBase + BigInt(uc), true);
    }
    const g = uc + UC_MCONTEXT;
    for (let i = 0; i < GREGS.length; i++)
      a.setBigUint64(g + i * 8, regs[GREGS[i] ?? 0] ?? 0n, true);
    a.setUint16(g + GREG_CSGSFS * 8, Number(regs[Reg.cs] ?? 0x33n) & 0xffff, true);
    a.setUint16(g + GREG_CSGSFS * 8 + 6, Number(regs[Reg.ss] ?? 0x2bn) & 0xffff, true);
    // The host mask of an application thread is always empty (SIGSYS must stay deliverable).
    a.setBigUint64(uc + UC_SIGMASK, 0n, true);
    let flags = 0;
    const fs = regs[Reg.fs_base] ?? 0n;
    if (fs !== this.knownFs) {
      a.setBigUint64(MSG.fsBase, fs, true);
      flags |= FLAG_SET_FS;
      this.knownFs = fs;
    }
    const gs = regs[Reg.gs_base] ?? 0n;
    if (gs !== this.knownGs) {
      a.setBigUint64(MSG.gsBase, gs, true);
      flags |= FLAG_SET_GS;
      this.knownGs = gs;
    }
    a.setUint32(MSG.flags, flags, true);
    a.setUint32(MSG.spin, this.cpu === p.sentryCpu || this.cpu < 0 ? 0 : STUB_SPINS, true);
    this.inFrame = false;
    Atomics.store(this.words, MSG.state / 4, STATE_RUNNING);
    if (Atomics.load(this.words, MSG.sleeping / 4) !== 0) p.wake(this);
    this.setRunning(true);
    if (Atomics.load(this.words, MSG.tid / 4) === 0) {
      this.setRunning(false);
      p.pushReady(this.died('stub gone'));
    }
  }

  /** Where the first frame's FP state is (0: none, the thread starts with the initial state). */
  private placeFirstFp(): bigint {
    const fp = this.pendingFp;
    this.pendingFp = undefined;
    if (fp === undefined) return 0n;
    const a = new Uint8Array(this.area.buffer, this.area.byteOffset, AREA_SIZE);
    const sw = this.platform.swBytes;
    const size = sw === undefined ? 0 : new DataView(sw.buffer).getUint32(16, true);
    if (sw !== undefined && fp.length >= size && size > LEGACY_FP) {
      a.set(fp.subarray(0, size), FIRST_FPSTATE_AT);
      a.set(sw, FIRST_FPSTATE_AT + FP_SW_BYTES);
      this.area.setUint32(FIRST_FPSTATE_AT + size, FP_XSTATE_MAGIC2, true);
    } else {
      a.set(fp.subarray(0, LEGACY_FP), FIRST_FPSTATE_AT);
      // No XSAVE trailer: the host restores the legacy image and initialises the rest.
      a.fill(0, FIRST_FPSTATE_AT + FP_SW_BYTES, FIRST_FPSTATE_AT + LEGACY_FP);
    }
    return this.stubBase + BigInt(FIRST_FPSTATE_AT);
  }

  /** The stop of this (running) thread, which waitAny saw: its registers and trap. */
  collect(): TrapEvent {
    const ctx = this.owner as ThreadContext;
    const state = Atomics.load(this.words, MSG.state / 4);
    if (state !== STATE_TRAPPED) {
      if (Atomics.load(this.words, MSG.tid / 4) === 0) return this.died('stub thread exited');
      if (state === STATE_RUNNING || state === (STATE_RUNNING | STATE_WAITERS))
        return this.died('stub thread gone');
      return this.died(`stub message corrupt (state ${state})`);
    }
    this.setRunning(false);
    this.kickedAt = 0n;
    const a = this.area;
    const si = this.offsetOf(a.getBigUint64(MSG.siginfo, true), SIGINFO_SIZE);
    const uc = this.offsetOf(a.getBigUint64(MSG.uctx, true), UC_SIZE);
    const regs = this.regs;
    if (si < 0 || uc < 0 || regs === undefined) return this.died('stub message corrupt');
    this.inFrame = true;
    this.ucOff = uc;
    const g = uc + UC_MCONTEXT;
    for (let i = 0; i < GREGS.length; i++) regs[GREGS[i] ?? 0] = a.getBigUint64(g + i * 8, true);
    regs[Reg.cs] = BigInt(a.getUint16(g + GREG_CSGSFS * 8, true));
    regs[Reg.ss] = BigInt(a.getUint16(g + GREG_CSGSFS * 8 + 6, true));
    regs[Reg.orig_rax] = 0xffffffffffffffffn;
    if (this.platform.fsgsbase) {
      this.knownFs = a.getBigUint64(MSG.fsBase, true);
      this.knownGs = a.getBigUint64(MSG.gsBase, true);
    }
    regs[Reg.fs_base] = this.knownFs;
    regs[Reg.gs_base] = this.knownGs;
    const signo = a.getUint32(MSG.kind, true);
    const code = a.getInt32(si + 8, true);
    if (signo === SIGSYS && code === SYS_SECCOMP) {
      if (a.getUint32(si + 28, true) !== AUDIT_ARCH_X86_64) {
        // int 0x80 or a 32-bit call: a fault, as on a kernel without IA-32 emulation.
        regs[Reg.rip] = (regs[Reg.rip] ?? 0n) - 2n;
        return { ctx, trap: { kind: 'signal', signo: SIGSEGV, addr: 0n, code: SI_KERNEL } };
      }
      regs[Reg.orig_rax] = BigInt(a.getInt32(si + 24, true));
      return { ctx, trap: SYSCALL_TRAP };
    }
    if (signo === SIGUSR1 && (code === SI_USER || code === SI_TKILL))
      return { ctx, trap: INTERRUPTED };
    return { ctx, trap: { kind: 'signal', signo, addr: a.getBigUint64(si + 16, true), code } };
  }

  interrupt(): void {
    if (!this.running || this.dead) return;
    if (this.kickedAt === 0n) this.kickedAt = process.hrtime.bigint();
    tgkill(this.tgid, this.tid, SIGUSR1);
  }

  /** Waits for this started thread's own stop (the synchronous path). */
  collectSelf(): TrapEvent {
    return this.platform.collectOne(this);
  }

  /** The FP state area of its frame as [offset, xstate size or 512 without a trailer], or undefined. */
  private frameFp(): [number, number] | undefined {
    if (!this.inFrame) return undefined;
    const a = this.area;
    const fp = this.offsetOf(a.getBigUint64(this.ucOff + UC_FPSTATE, true), LEGACY_FP);
    if (fp < 0 || (fp & 63) !== 0) return undefined;
    if (a.getUint32(fp + FP_SW_BYTES, true) !== FP_XSTATE_MAGIC1) return [fp, LEGACY_FP];
    const size = a.getUint32(fp + 480, true);
    if (size <= LEGACY_FP || fp + size + 4 > AREA_SIZE) return [fp, LEGACY_FP];
    if (this.platform.swBytes === undefined) {
      this.platform.swBytes = new Uint8Array(
        a.buffer.slice(a.byteOffset + fp + FP_SW_BYTES, a.byteOffset + fp + LEGACY_FP),
      );
    }
    return [fp, size];
  }

  getFpState(): Uint8Array | number {
    const f = this.frameFp();
    if (f !== undefined) {
      const out = new Uint8Array(f[1]);
      out.set(new Uint8Array(this.area.buffer, this.area.byteOffset + f[0], f[1]));
      // The ptrace layout (platform.ts): where a frame has its trailer, the image has XCR0.
      if (f[1] > LEGACY_FP) {
        const features = this.area.getBigUint64(f[0] + FP_SW_BYTES + 8, true);
        out.fill(0, FP_SW_BYTES, LEGACY_FP);
        new DataView(out.buffer).setBigUint64(FP_SW_BYTES, features, true);
      }
      return out;
    }
    if (this.pendingFp !== undefined) return this.pendingFp.slice();
    const init = new Uint8Array(LEGACY_FP);
    const dv = new DataView(init.buffer);
    dv.setUint16(0, 0x37f, true);
    dv.setUint32(24, 0x1f80, true);
    dv.setUint32(28, 0xffff, true);
    return init;
  }

  setFpState(state: Uint8Array): number {
    const bad = fpImageProblem(state);
    if (bad < 0) return bad;
    const f = this.frameFp();
    if (f === undefined) {
      this.pendingFp = state.slice();
      return 0;
    }
    const [fp, size] = f;
    const a = new Uint8Array(this.area.buffer, this.area.byteOffset, AREA_SIZE);
    // The first 464 bytes are the legacy registers; 464..512 is the host's trailer, kept.
    a.set(state.subarray(0, FP_SW_BYTES), fp);
    if (size > LEGACY_FP) {
      const dv = this.area;
      const features = dv.getBigUint64(fp + FP_SW_BYTES + 8, true);
      if (state.length > LEGACY_FP) {
        a.set(state.subarray(LEGACY_FP, Math.min(state.length, size)), fp + LEGACY_FP);
        dv.setBigUint64(fp + LEGACY_FP, dv.getBigUint64(fp + LEGACY_FP, true) & features, true);
        dv.setBigUint64(fp + LEGACY_FP + 8, 0n, true);
      } else {
        // A legacy image: x87 and SSE from it, the other components initial.
        dv.setBigUint64(fp + LEGACY_FP, 3n, true);
      }
    }
    return 0;
  }
}

/** What a thread context does, through the application thread behind it. */
abstract class OnThread {
  protected abstract get t(): SystrapThread;

  start(regs: Registers, cpu: number): void {
    this.t.start(regs, cpu);
  }

  interrupt(): void {
    this.t.interrupt();
  }

  switchTo(regs: Registers): Trap {
    this.t.start(regs, -1);
    return this.t.collectSelf().trap;
  }

  getFpState(): Uint8Array | number {
    return this.t.getFpState();
  }

  setFpState(state: Uint8Array): number {
    return this.t.setFpState(state);
  }
}

/** A thread context of the kernel: one application thread. */
class SystrapContext extends OnThread implements ThreadContext {
  constructor(private readonly thread: SystrapThread) {
    super();
    thread.owner = this;
  }

  protected get t(): SystrapThread {
    return this.thread;
  }

  get hostPid(): number {
    return this.thread.tid;
  }

  get alive(): boolean {
    return !this.thread.dead;
  }
}

/** An address space: a stub process, its executor, and its application threads. */
class SystrapAddressSpace extends OnThread implements AddressSpace {
  first: SystrapThread | undefined;
  private readonly threads = new Map<ThreadContext, SystrapThread>();
  private released = false;

  constructor(
    private readonly platform: SystrapPlatform,
    private readonly ex: PtraceAddressSpace,
  ) {
    super();
  }

  protected get t(): SystrapThread {
    const f = this.first;
    if (f === undefined) throw new Error('systrap: address space without a thread');
    return f;
  }

  get hostPid(): number {
    return this.first?.tid ?? 0;
  }

  get alive(): boolean {
    return !this.released && this.first !== undefined && !this.first.dead;
  }

  /** A new application thread in this process, set up and waiting; or -errno. */
  spawn(): SystrapThread | number {
    const p = this.platform;
    const slot = p.allocSlot();
    if (slot < 0) return -Errno.EAGAIN;
    const t = new SystrapThread(p, slot, this.ex.hostPid);
    const a = t.area;
    for (let i = 0; i < 64; i += 4) a.setUint32(i, 0, true);
    a.setUint32(MSG.state, STATE_INIT, true);
    const m = this.ex.injectCall(SYS_mmap, [
      t.stubBase,
      BigInt(AREA_SIZE),
      BigInt(PROT_RW),
      BigInt(MAP_SHARED_FIXED),
      BigInt(p.threadsFd.fd),
      BigInt(slot * AREA_SIZE),
    ]);
    if (m !== t.stubBase) {
      p.freeSlot(slot);
      return m < 0n ? Number(m) : -Errno.ENOMEM;
    }
    const tid = this.ex.injectCall(
      SYS_clone,
      [
        BigInt(SYSTRAP_THREAD_FLAGS),
        t.stubBase + BigInt(MSG_PAGE),
        0n,
        t.stubBase + BigInt(MSG.tid),
        0n,
      ],
      p.cloneGadget,
    );
    if (tid <= 0n) {
      this.ex.injectCall(SYS_munmap, [t.stubBase, BigInt(AREA_SIZE)]);
      p.freeSlot(slot);
      return tid < 0n ? Number(tid) : -Errno.EAGAIN;
    }
    t.tid = Number(tid);
    // Its set-up is a handful of calls; allow it five seconds, checking that it lives.
    for (let i = 0; i < 50; i++) {
      const r = p.waitWords([[t.stateAddr, STATE_INIT | STATE_WAITERS]], 1, 100_000_000n);
      if (r === 0 && Atomics.load(t.words, MSG.state / 4) === STATE_TRAPPED) {
        new SystrapContext(t);
        return t;
      }
      if (tgkill(t.tgid, t.tid, 0) < 0) break;
    }
    this.ex.injectCall(SYS_munmap, [t.stubBase, BigInt(AREA_SIZE)]);
    p.freeSlot(slot);
    return -Errno.EAGAIN;
  }

  map(addr: bigint, len: number, offset: number, prot: number): number {
    const r = this.ex.map(addr, len, offset, prot);
    return r;
  }

  unmap(addr: bigint, len: number): number {
    return this.ex.unmap(addr, len);
  }

  protect(addr: bigint, len: number, prot: number): number {
    return this.ex.protect(addr, len, prot);
  }

  initialRegisters(): Registers {
    const r = this.ex.initialRegisters();
    const out = new BigUint64Array(REG_COUNT);
    out[Reg.cs] = r[Reg.cs] ?? 0x33n;
    out[Reg.ss] = r[Reg.ss] ?? 0x2bn;
    out[Reg.eflags] = 0x202n;
    return out;
  }

  newThread(): ThreadContext | number {
    const t = this.spawn();
    if (typeof t === 'number') return t;
    const ctx = t.owner as ThreadContext;
    this.threads.set(ctx, t);
    return ctx;
  }

  endThread(ctx: ThreadContext): void {
    const t = this.threads.get(ctx);
    if (t === undefined) return;
    this.threads.delete(ctx);
    this.platform.forget(ctx);
    this.finish(t);
  }

  /** Ends one application thread and frees its area. */
  private finish(t: SystrapThread): void {
    const p = this.platform;
    if (t.running && !t.dead) {
      t.interrupt();
      p.collectOne(t);
    }
    if (!t.dead) {
      Atomics.store(t.words, MSG.state / 4, STATE_EXIT);
      p.wake(t);
      for (let i = 0; i < 20; i++) {
        if (Atomics.load(t.words, MSG.tid / 4) === 0) break;
        p.waitWords([[t.tidAddr, t.tid]], 0, 100_000_000n);
        if (tgkill(t.tgid, t.tid, 0) < 0) break;
      }
      t.dead = true;
    }
    t.setRunning(false);
    if (!this.released) this.ex.injectCall(SYS_munmap, [t.stubBase, BigInt(AREA_SIZE)]);
    p.freeSlot(t.slot);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // SIGKILL to the executor's thread group ends every application thread with it.
    this.ex.release();
    const all = [...this.threads.values()];
    if (this.first !== undefined) all.push(this.first);
    for (const t of all) {
      t.dead = true;
      t.setRunning(false);
      if (t.owner !== undefined) this.platform.forget(t.owner);
      this.platform.freeSlot(t.slot);
    }
    this.threads.clear();
    this.first = undefined;
  }
}
