// The shape of the syscall table: number → { name, handler, support, note }. Handlers decode
// their arguments, copy through AppMemory, call the kernel or the vfs, and return a value or a
// negative errno (Linux's convention). A handler never throws: a throw is a Sentry bug and
// stops the sandbox with a diagnostic.

import type { FileDescription } from '../vfs/file_description.js';
import type { AppMemory } from '../mm/app_memory.js';
import type { FdTable } from '../vfs/fd_table.js';
import type { FsContext } from '../vfs/fs_context.js';

/** The six raw argument registers (rdi, rsi, rdx, r10, r8, r9) as unsigned 64-bit values. */
export type SyscallArgs = readonly [bigint, bigint, bigint, bigint, bigint, bigint];

/** What a handler sees of the calling task. */
export interface SyscallContext {
  readonly mem: AppMemory;
  readonly files: FdTable;
  readonly fs: FsContext;
  readonly creds: Credentials;
  /** RLIMIT_FSIZE's soft limit in bytes (Infinity when none); absent: no limit. */
  fileSizeLimit?(): number;
  /** A write or truncation passed RLIMIT_FSIZE: the caller gets SIGXFSZ. */
  fileTooBig?(): void;
  /** The call answers BLOCKED waiting on `f` for `events` (POLLIN, POLLOUT): wake it then. */
  waitOn?(f: FileDescription, events: number): void;
  /**
   * The call is about to park with a time limit of `ns` (0n: none): false once that limit,
   * started on its first try, has passed (the call answers EAGAIN instead).
   */
  mayWait?(ns: bigint): boolean;
  /** Bytes a parked stream write had moved before it parked (0 on a first try). */
  ioResume?(): number;
  /** The write parks with `done` bytes moved; false when a signal is pending (return them). */
  ioPark?(done: number): boolean;
}

export interface Credentials {
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  suid: number;
  sgid: number;
  /** The ids file access is checked against (they follow euid/egid unless setfs*id). */
  fsuid: number;
  fsgid: number;
  groups: number[];
  /** The capability sets as 64-bit masks (kernel/credentials.ts). */
  capEff: bigint;
  capPrm: bigint;
  capInh: bigint;
  capBnd: bigint;
  capAmb: bigint;
  /** PR_SET_KEEPCAPS: permitted survives leaving uid 0. */
  keepCaps: boolean;
}

/** A result: a non-negative value, or a negative errno. */
export type SyscallResult = number | bigint;

export type SyscallHandler<C extends SyscallContext = SyscallContext> = (
  ctx: C,
  args: SyscallArgs,
) => SyscallResult;

export type Support = 'full' | 'partial';

export interface SyscallEntry<C extends SyscallContext = SyscallContext> {
  name: string;
  handler: SyscallHandler<C>;
  support: Support;
  /** What differs from Linux, when something does. */
  note?: string;
}
