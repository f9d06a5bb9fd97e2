// A task: one application thread as the Sentry's kernel sees it — its registers, its address
// space, its file table and file system context, its credentials, its signal state and its
// exit state. Syscall handlers receive the task as their SyscallContext.
//
// Owned by the kernel's run loop; handlers mutate it only through the syscall they implement.
// It must never hold host resources except through the objects it references (mm, files).

import type { Registers } from '../../platform/platform.js';
import type { MemoryManager } from '../mm/memory_manager.js';
import type { Credentials, SyscallContext } from '../syscalls/types.js';
import type { FdTable } from '../vfs/fd_table.js';
import type { FsContext } from '../vfs/fs_context.js';
import type { Kernel } from './kernel.js';
import type { AltStack, SigInfo } from './signals.js';

/** rt_sigaction's struct sigaction, as the application gave it (x86-64 layout). */
export interface SigAction {
  handler: bigint;
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

export interface Rlimit {
  cur: bigint;
  max: bigint;
}

export type ExitState =
  | { kind: 'running' }
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signo: number; core: boolean };

export class Task implements SyscallContext {
  exit: ExitState = { kind: 'running' };
  sigmask = 0n;
  readonly sigactions = new Map<number, SigAction>();
  /** Pending signals as bits (bit n-1 for signal n), and the siginfo of each. */
  pendingSignals = 0n;
  readonly pendingInfo = new Map<number, SigInfo>();
  altStack: AltStack = { sp: 0n, size: 0n, flags: 2 /* SS_DISABLE */ };
  /** rt_sigsuspend's caller mask, restored once the signal that ended it is delivered. */
  savedMaskAfterSuspend: bigint | undefined;
  clearChildTid = 0n;
  robustList = 0n;
  comm: string;
  /** What execve gave the process: for /proc/<pid>/{cmdline,environ,exe}. */
  argv: string[] = [];
  envp: string[] = [];
  exePath: string | null = null;
  readonly rlimits: Map<number, Rlimit>;

  constructor(
    readonly kernel: Kernel,
    readonly tid: number,
    readonly regs: Registers,
    readonly mm: MemoryManager,
    readonly files: FdTable,
    readonly fs: FsContext,
    readonly creds: Credentials,
    comm: string,
    rlimits: Map<number, Rlimit>,
  ) {
    this.comm = comm.slice(0, 15);
    this.rlimits = rlimits;
  }

  get mem(): MemoryManager {
    return this.mm;
  }

  /** The thread group id: single-threaded processes for now, so the tid. */
  get tgid(): number {
    return this.tid;
  }

  get exited(): boolean {
    return this.exit.kind !== 'running';
  }
}
