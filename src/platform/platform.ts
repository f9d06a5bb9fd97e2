// The interface between the Sentry's kernel and the machinery that runs application code.
// The kernel sees only this: address spaces that map ranges of the memory file, and a way to
// run a task's registers until the next trap. A platform must never execute a system call of
// the application on the host: every one comes back to the kernel as a 'syscall' trap.

/** x86-64 `struct user_regs_struct` indices (27 u64, the ptrace GETREGS layout). */
export const Reg = {
  r15: 0,
  r14: 1,
  r13: 2,
  r12: 3,
  rbp: 4,
  rbx: 5,
  r11: 6,
  r10: 7,
  r9: 8,
  r8: 9,
  rax: 10,
  rcx: 11,
  rdx: 12,
  rsi: 13,
  rdi: 14,
  orig_rax: 15,
  rip: 16,
  cs: 17,
  eflags: 18,
  rsp: 19,
  ss: 20,
  fs_base: 21,
  gs_base: 22,
  ds: 23,
  es: 24,
  fs: 25,
  gs: 26,
} as const;

export const REG_COUNT = 27;

/**
 * The general registers of a signal frame's `struct sigcontext` (ucontext's uc_mcontext), in
 * Linux's x86-64 order, up to rip (eflags, the segment word, err, trapno, oldmask, cr2 and the
 * FP state pointer follow).
 */
export const MCONTEXT_GREGS: readonly number[] = [
  Reg.r8,
  Reg.r9,
  Reg.r10,
  Reg.r11,
  Reg.r12,
  Reg.r13,
  Reg.r14,
  Reg.r15,
  Reg.rdi,
  Reg.rsi,
  Reg.rbp,
  Reg.rbx,
  Reg.rdx,
  Reg.rax,
  Reg.rcx,
  Reg.rsp,
  Reg.rip,
];
/** Offsets in an x86-64 `struct ucontext`: uc_mcontext and uc_sigmask. */
export const UC_MCONTEXT = 40;
export const UC_SIGMASK = 296;

/** The fxsave image; an XSAVE image starts with it. */
export const FP_LEGACY_SIZE = 512;
/** struct _fpx_sw_bytes, in the fxsave image's software-reserved bytes (signal frames). */
export const FP_SW_BYTES = 464;
export const FP_XSTATE_MAGIC1 = 0x46505853;
/** Just after the XSAVE image in a signal frame. */
export const FP_XSTATE_MAGIC2 = 0x46505845;

/**
 * -EINVAL for an FP image the host would refuse to load (shorter than the fxsave image, or
 * MXCSR reserved bits set), else 0: what setFpState checks on every platform.
 */
export function fpImageProblem(state: Uint8Array): number {
  if (state.length < FP_LEGACY_SIZE) return -EINVAL;
  const mxcsr = new DataView(state.buffer, state.byteOffset).getUint32(24, true);
  return (mxcsr & 0xffff0000) !== 0 ? -EINVAL : 0;
}
const EINVAL = 22;

export type Registers = BigUint64Array;

export type Trap =
  | { kind: 'syscall' }
  /** A synchronous fault or signal the application caused (SIGSEGV, SIGILL, SIGTRAP…). */
  | { kind: 'signal'; signo: number; addr: bigint; code: number }
  /** The host stub is gone (killed from outside): the task cannot continue. */
  | { kind: 'dead'; reason: string }
  /**
   * Stopped from outside, not by the application: the control plane's kick, the end of a time
   * slice, or a stop the platform needed. Nothing happened to the task; it may run on.
   */
  | { kind: 'interrupted' };

/** A started context that stopped, and why. */
export interface TrapEvent {
  ctx: ThreadContext;
  trap: Trap;
}

/** One application thread's way onto the CPU. */
export interface ThreadContext {
  /** The host thread the control plane signals to interrupt a running switchTo (0: none). */
  readonly hostPid: number;
  /** Runs the application with `regs` until the next trap; `regs` is updated in place. */
  switchTo(regs: Registers): Trap;
  /**
   * Starts the application with `regs` on host CPU `cpu` (-1: any) and returns at once; its
   * next trap is collected by Platform.waitAny, into `regs`. Several contexts may run at once.
   */
  start(regs: Registers, cpu: number): void;
  /** Makes a started context trap soon ('interrupted'); nothing if it is not running. */
  interrupt(): void;
  /** False once the host side is gone. */
  readonly alive: boolean;
  /**
   * The floating-point state for signal frames and fork: the XSAVE image in standard format
   * (AVX and AVX-512 state included; its first 512 bytes are the fxsave image), or the
   * 512-byte fxsave image alone where the host offers no XSAVE state. In an XSAVE image,
   * bytes 464..471 hold XCR0 (the components the host enables), as ptrace's NT_X86_XSTATE.
   */
  getFpState(): Uint8Array | number;
  /** Sets it from either form; a 512-byte image leaves the other components initial. */
  setFpState(state: Uint8Array): number;
}

/** An address space; it is also the context of its first thread. */
export interface AddressSpace extends ThreadContext {
  /** The host process the control plane signals to interrupt a running switchTo (0: none). */
  readonly hostPid: number;
  /** Maps [addr, addr+len) to the memory file at `offset` with `prot`; 0 or -errno. */
  map(addr: bigint, len: number, offset: number, prot: number): number;
  unmap(addr: bigint, len: number): number;
  protect(addr: bigint, len: number, prot: number): number;
  /** Runs the application with `regs` until the next trap; `regs` is updated in place. */
  switchTo(regs: Registers): Trap;
  /**
   * The floating-point state for signal frames and fork: the XSAVE image in standard format
   * (AVX and AVX-512 state included; its first 512 bytes are the fxsave image), or the
   * 512-byte fxsave image alone where the host offers no XSAVE state. In an XSAVE image,
   * bytes 464..471 hold XCR0 (the components the host enables), as ptrace's NT_X86_XSTATE.
   */
  getFpState(): Uint8Array | number;
  /** Sets it from either form; a 512-byte image leaves the other components initial. */
  setFpState(state: Uint8Array): number;
  /** The registers a fresh thread starts from (segment selectors, flags). */
  initialRegisters(): Registers;
  /** Another thread in this address space (CLONE_VM|CLONE_THREAD), or -errno. */
  newThread(): ThreadContext | number;
  /** Ends a thread that newThread made; the address space and its other threads go on. */
  endThread(t: ThreadContext): void;
  /** Kills the host side; the address space is unusable afterwards. */
  release(): void;
}

export interface Platform {
  readonly name: string;
  /**
   * The host CPUs application code may run on; the first is where threads that trap often run
   * best (ptrace: the Sentry's own CPU; systrap: another one, the Sentry's last).
   */
  readonly cpus: readonly number[];
  /** Waits for a started context to trap; undefined when none is running. */
  waitAny(): TrapEvent | undefined;
  /** The highest address (exclusive) the application may map. */
  readonly maxUserAddress: bigint;
  newAddressSpace(): AddressSpace | number;
  /** The host CPU's time-stamp counter (absent where the platform cannot read it). */
  readCycles?(): bigint;
}
