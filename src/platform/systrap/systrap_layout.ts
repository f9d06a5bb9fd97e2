// Where the systrap platform keeps things: the per-thread area (a message page the Sentry and
// the stub thread share, then the thread's signal stack), the values of its state word, and
// the systrap data in the stub's read-only second page. Shared by the stub's machine code and
// the Sentry's side; nothing here may depend on either.

/** One application thread's area: the message page, then its alternate signal stack. */
export const AREA_SIZE = 0x10000;
/** The message page: its first bytes are the fields below; its end is the thread's first stack. */
export const MSG_PAGE = 0x1000;
/** Where the Sentry builds a thread's first signal frame (its ucontext), inside the area. */
export const FIRST_FRAME_AT = 0x1100;
/** Where that frame's FP state goes (64-byte aligned). */
export const FIRST_FPSTATE_AT = 0x2000;

/** Offsets of the message fields. */
export const MSG = {
  /** The futex word: a State value. */
  state: 0,
  /** Set by the stub while it sleeps in FUTEX_WAIT on state (so the Sentry knows to wake it). */
  sleeping: 4,
  /** The thread's host tid; the host kernel zeroes it and wakes it when the thread dies. */
  tid: 8,
  /** The host signal that stopped it (SIGSYS for a system call). */
  kind: 12,
  /** The stub's addresses of the siginfo and ucontext of that signal's frame. */
  siginfo: 16,
  uctx: 24,
  /** FS and GS base: read at a stop where the CPU allows it; set at a resume when flagged. */
  fsBase: 32,
  gsBase: 40,
  flags: 48,
  /** How long the stub spins (pause iterations) before it sleeps. */
  spin: 52,
} as const;

/** Values of the state word. */
export const STATE_TRAPPED = 0;
export const STATE_RUNNING = 1;
export const STATE_EXIT = 2;
export const STATE_INIT = 3;
/** Or-ed into STATE_RUNNING by the Sentry before it sleeps: the stub must wake it. */
export const STATE_WAITERS = 0x100;

export const FLAG_SET_FS = 1;
export const FLAG_SET_GS = 2;

/** In the stub's second (read-only) page, relative to the page block's start. */
export const DATA = {
  /** The struct sock_fprog of the application threads' filter, and the filter after it. */
  appFprog: 0x1800,
  /** The struct sigaction (kernel layout) of the stub's signal handler. */
  handlerAction: 0x1e00,
  /** Nonzero when the CPU and host allow rdfsbase/wrfsbase in user mode. */
  fsgsbase: 0x1e40,
  /** The master's signal mask, which its stubs inherit (systrap_platform.ts). */
  allSignals: 0x1e48,
} as const;
/** The base filter must end before the application filter's fprog. */
export const BASE_FILTER_END = DATA.appFprog;
/** The application filter must end before the handler's sigaction. */
export const APP_FILTER_END = DATA.handlerAction;

/** Thread areas start this far above the stub pages, one AREA_SIZE slot per thread. */
export const AREAS_OFFSET = 0x1000000n;
/** Application threads the sandbox may have at once. */
export const MAX_THREADS = 8192;
