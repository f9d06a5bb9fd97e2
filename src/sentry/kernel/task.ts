// A task: one application thread as the Sentry's kernel sees it — its registers, its address
// space, its file table and file system context, its credentials, its signal state and its
// exit state. Syscall handlers receive the task as their SyscallContext.
//
// Owned by the kernel's run loop; handlers mutate it only through the syscall they implement.
// It must never hold host resources except through the objects it references (mm, files).

import type { SeccompState } from './task_seccomp.js';
import type { FileDescription } from '../vfs/file_description.js';
import { restartOf, signalPending, timeLeft, waitOnFiles } from './block.js';
import { CpuAccount } from './cputime.js';
import type { Registers, ThreadContext } from '../../platform/platform.js';
import type { MemoryManager } from '../mm/memory_manager.js';
import type { Credentials, SyscallArgs, SyscallContext } from '../syscalls/types.js';
import type { FdTable } from '../vfs/fd_table.js';
import type { FsContext } from '../vfs/fs_context.js';
import type { Kernel } from './kernel.js';
import { SI_KERNEL, sendSignal, type AltStack, type SigInfo } from './signals.js';
import type { Restart } from './block.js';

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
  /**
   * `core`: the status says "core dumped". Always false today: the Sentry never writes a core
   * file (application memory on the host's disk), so, as Linux does when no dump was made
   * (RLIMIT_CORE 0, the usual container default), it claims none.
   */
  | { kind: 'killed'; signo: number; core: boolean };

const RLIMIT_FSIZE = 1;
const SIGXFSZ = 25;

export class Task implements SyscallContext {
  exit: ExitState = { kind: 'running' };
  sigmask = 0n;
  /** Signal dispositions: one table for the threads of a process (CLONE_SIGHAND). */
  sigactions = new Map<number, SigAction>();
  /** Pending signals as bits (bit n-1 for signal n), and the siginfo of each. */
  pendingSignals = 0n;
  readonly pendingInfo = new Map<number, SigInfo>();
  altStack: AltStack = { sp: 0n, size: 0n, flags: 2 /* SS_DISABLE */ };
  /** rt_sigsuspend's caller mask, restored once the signal that ended it is delivered. */
  savedMaskAfterSuspend: bigint | undefined;
  clearChildTid = 0n;
  robustList = 0n;
  /** The nice value, -20..19 (setpriority; inherited by children and threads). */
  nice = 0;
  /** personality(2): the execution domain and its flags (inherited, kept across exec). */
  personality = 0;
  /** no_new_privs: set-id bits are ignored at exec; never cleared once set. */
  noNewPrivs = false;
  /** Seccomp mode and the filters this task attached (task_seccomp.ts). */
  seccomp: SeccompState = { mode: 0, filter: null };
  comm: string;
  /** What execve gave the process: for /proc/<pid>/{cmdline,environ,exe}. */
  argv: string[] = [];
  envp: string[] = [];
  exePath: string | null = null;
  readonly rlimits: Map<number, Rlimit>;
  /** The parent process (null for init, whose parent is outside the PID namespace). */
  parent: Task | null = null;
  /** Children not yet reaped, zombies included. */
  readonly children = new Set<Task>();
  pgid: number;
  sid: number;
  /** The signal the parent gets at this task's exit (clone's low byte; SIGCHLD for fork). */
  exitSignal = 17;
  /** Exited, waiting for the parent's wait (the exit state is in `exit`). */
  zombie = false;
  /** A blocking call parked by the scheduler, retried until it completes. */
  blocked: { nr: number; args: SyscallArgs } | undefined;
  /** What that call keeps between tries (block.ts). */
  restart: Restart | undefined;
  /** A vfork child this task waits for until the child execs or exits. */
  vforkChild: Task | null = null;
  /** Set when this task, a vfork child, has exec'd or exited: its parent may go on. */
  vforkReleased = false;
  /** The thread group's leader (this task for a process's first thread). */
  leader: Task = this;
  /** The threads of this task's process, the leader included (one Set per process). */
  threads = new Set<Task>([this]);
  /** exit(2) rather than exit_group(2): only this thread ends while others live. */
  threadExitOnly = false;
  /** Its end has been carried out (process_tree.ts endThread): it never runs again. */
  ended = false;
  /**
   * How long it runs between traps, on average (ns, a moving average): the run loop places
   * tasks that compute for long on CPUs other than the Sentry's (task_run.ts).
   */
  avgRunNs = 0n;
  /** The sandbox CPUs it may run on (sched_setaffinity), as bits; inherited. */
  cpuMask = ~0n;
  /** The sandbox CPU (the run loop's lane) it last ran on. */
  lastCpu = 0;
  /** The CPU context this task runs on: its address space's first thread, or its own. */
  thread: ThreadContext;
  /** CPU time and peak memory (kernel/cputime.ts). */
  readonly cpu = new CpuAccount();
  /** When the task was made (monotonic ns): /proc/PID/stat's start time. */
  readonly startNs: bigint;

  constructor(
    readonly kernel: Kernel,
    readonly tid: number,
    readonly regs: Registers,
    /** The address space: execve replaces it. */
    public mm: MemoryManager,
    readonly files: FdTable,
    readonly fs: FsContext,
    readonly creds: Credentials,
    comm: string,
    rlimits: Map<number, Rlimit>,
  ) {
    this.comm = comm.slice(0, 15);
    this.rlimits = rlimits;
    this.pgid = tid;
    this.sid = tid;
    this.thread = mm.as;
    this.startNs = kernel.monotonicNs();
  }

  get mem(): MemoryManager {
    return this.mm;
  }

  /** The thread group id: the leader's tid, the process's pid. */
  get tgid(): number {
    return this.leader.tid;
  }

  get exited(): boolean {
    return this.exit.kind !== 'running';
  }

  /** RLIMIT_FSIZE's soft limit in bytes (Infinity when unlimited). */
  fileSizeLimit(): number {
    const l = this.rlimits.get(RLIMIT_FSIZE)?.cur;
    return l === undefined || l >= BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(l);
  }

  /** A write passed RLIMIT_FSIZE: SIGXFSZ to this thread, as Linux sends it. */
  fileTooBig(): void {
    sendSignal(this, { signo: SIGXFSZ, code: SI_KERNEL });
  }

  ioResume(): number {
    const d = this.restart?.data;
    return typeof d === 'object' && d !== null && 'ioDone' in d && typeof d.ioDone === 'number'
      ? d.ioDone
      : 0;
  }

  mayWait(ns: bigint): boolean {
    const r = restartOf(this, ns > 0n ? ns : -1n);
    return r.deadline < 0n || timeLeft(this, r) > 0n;
  }

  ioPark(done: number): boolean {
    if (signalPending(this)) return false;
    restartOf(this, -1n).data = { ioDone: done };
    return true;
  }

  /** The call parks on `f` (a pipe read, a full pipe's write): woken by f's notifications. */
  waitOn(f: FileDescription, events: number): void {
    if (f.impl !== null) waitOnFiles(this, [f.impl], [events]);
  }
}
