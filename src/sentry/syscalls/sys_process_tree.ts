// The process tree's system calls: fork, vfork, clone (new processes; threads are not offered
// yet), execve, wait4, waitid, getppid, and process groups and sessions (setpgid, getpgid,
// getpgrp, setsid, getsid). The work is in kernel/process_tree.ts and kernel/exec.ts; waits
// park the task (kernel/block.ts) instead of sleeping. Nothing here reaches the host but the
// platform's new stub for each process.

import { childRusage } from './sys_rusage.js';
import { Errno } from '../../abi/linux/errno.js';
import { BLOCKED, restartOf, signalPending } from '../kernel/block.js';
import { execve } from '../kernel/exec.js';
import {
  CLONE_CHILD_CLEARTID,
  CLONE_CHILD_SETTID,
  CLONE_DETACHED,
  CLONE_FILES,
  CLONE_FS,
  CLONE_PARENT,
  CLONE_PARENT_SETTID,
  CLONE_PIDFD,
  CLONE_PTRACE,
  CLONE_SETTLS,
  CLONE_SIGHAND,
  CLONE_SYSVSEM,
  CLONE_THREAD,
  CLONE_UNTRACED,
  CLONE_VFORK,
  CLONE_VM,
  childCode,
  cloneThread,
  forkTask,
  reap,
  waitStatus,
} from '../kernel/process_tree.js';
import { siginfoBytes } from '../kernel/signals.js';
import type { Task } from '../kernel/task.js';
import { int, uint } from './args.js';
import type { SyscallEntry } from './types.js';

const SIGCHLD = 17;
const WNOHANG = 1;
const WUNTRACED = 2;
const WSTOPPED = 2;
const WEXITED = 4;
const WCONTINUED = 8;
const WNOWAIT = 0x01000000;
const WNOTHREAD = 0x20000000;
const WALL = 0x40000000;
const WCLONE = 0x80000000;
const P_ALL = 0;
const P_PID = 1;
const P_PGID = 2;
const MAX_ARGS = 0x7fffffff;
const MAX_ARG_STRLEN = 131072;
/** What this Sentry can do for clone: a new process, with or without the vfork wait. */
const FORK_FLAGS =
  CLONE_VFORK |
  CLONE_PARENT |
  CLONE_SETTLS |
  CLONE_PARENT_SETTID |
  CLONE_CHILD_CLEARTID |
  CLONE_CHILD_SETTID |
  CLONE_DETACHED |
  CLONE_UNTRACED |
  CLONE_PTRACE |
  CLONE_SYSVSEM |
  0xff;

/** The common core of fork, vfork and clone. */
function doFork(
  t: Task,
  flags: number,
  stack: bigint,
  parentTid: bigint,
  childTid: bigint,
  tls: bigint,
): number {
  // A vfork parent waits, parked, until its child execs or exits (the second try lands here).
  const waiting = t.vforkChild;
  if (waiting !== null) {
    if (!waiting.vforkReleased) return BLOCKED;
    t.vforkChild = null;
    return waiting.tid;
  }
  if ((flags & CLONE_SIGHAND) !== 0 && (flags & CLONE_VM) === 0) return -Errno.EINVAL;
  if ((flags & CLONE_THREAD) !== 0 && (flags & CLONE_SIGHAND) === 0) return -Errno.EINVAL;
  if ((flags & CLONE_FS) !== 0 && (flags & 0x20000) !== 0) return -Errno.EINVAL;
  if ((flags & CLONE_THREAD) !== 0) {
    // A thread: the file table and fs context are shared as pthreads shares them; a thread
    // with tables of its own is not offered.
    if (
      (flags & (CLONE_FILES | CLONE_FS)) !== (CLONE_FILES | CLONE_FS) ||
      (flags & CLONE_VFORK) !== 0
    ) {
      t.kernel.log.warn(
        `clone flags 0x${flags.toString(16)}: a thread without shared files: ENOSYS`,
      );
      return -Errno.ENOSYS;
    }
    const th = cloneThread(t, { flags, exitSignal: 0, stack, tls, parentTid, childTid });
    if (typeof th === 'number') return th === -Errno.ENOMEM ? -Errno.ENOMEM : -Errno.EAGAIN;
    return th.tid;
  }
  // vfork: the child runs in the parent's address space while the parent waits for its exec
  // or exit. CLONE_VM without CLONE_VFORK (a process sharing memory that runs alongside) is
  // not offered.
  const vmOk = (flags & CLONE_VM) === 0 || (flags & CLONE_VFORK) !== 0;
  if (!vmOk || (flags & ~(FORK_FLAGS | CLONE_VM)) !== 0 || (flags & CLONE_PIDFD) !== 0) {
    t.kernel.log.warn(
      `clone flags 0x${flags.toString(16)}: threads and shared tables are not implemented: ENOSYS`,
    );
    return -Errno.ENOSYS;
  }
  const child = forkTask(t, {
    flags,
    exitSignal: flags & 0xff,
    stack,
    tls,
    parentTid,
    childTid,
  });
  if (typeof child === 'number') {
    t.kernel.log.warn(`fork: ${child}`);
    return child === -Errno.ENOMEM ? -Errno.ENOMEM : -Errno.EAGAIN;
  }
  if ((flags & CLONE_VFORK) !== 0) {
    t.vforkChild = child;
    return BLOCKED;
  }
  return child.tid;
}

/** Implements Linux syscall clone(2) for new processes (x86-64 argument order). */
function clone(t: Task, a: readonly bigint[]): number {
  return doFork(t, uint(a[0] ?? 0n), a[1] ?? 0n, a[2] ?? 0n, a[3] ?? 0n, a[4] ?? 0n);
}

/** Reads a NULL-terminated array of string pointers (argv, envp). */
function stringArray(t: Task, addr: bigint): string[] | number {
  const out: string[] = [];
  if (addr === 0n) return out;
  let total = 0;
  for (let i = 0; i < MAX_ARGS; i++) {
    const b = t.mem.copyIn(addr + BigInt(i * 8), 8);
    if (typeof b === 'number') return b;
    const p = new BigUint64Array(b.buffer)[0] ?? 0n;
    if (p === 0n) return out;
    const s = t.mem.copyInString(p, MAX_ARG_STRLEN);
    if (typeof s === 'number') return s === -Errno.ENAMETOOLONG ? -Errno.E2BIG : s;
    total += Buffer.byteLength(s) + 1 + 8;
    if (total > 2 * 1024 * 1024) return -Errno.E2BIG;
    out.push(s);
  }
  return -Errno.E2BIG;
}

/** Implements Linux syscall execve(2), `#!` scripts included. */
function sysExecve(t: Task, a: readonly bigint[]): number {
  const path = t.mem.copyInString(a[0] ?? 0n, 4095);
  if (typeof path === 'number') return path;
  const argv = stringArray(t, a[1] ?? 0n);
  if (typeof argv === 'number') return argv;
  const envp = stringArray(t, a[2] ?? 0n);
  if (typeof envp === 'number') return envp;
  return execve(t, path, argv, envp);
}

type Select = { kind: 'any' } | { kind: 'pid'; pid: number } | { kind: 'pgid'; pgid: number };

function matches(c: Task, sel: Select, options: number): boolean {
  if (sel.kind === 'pid' && c.tid !== sel.pid) return false;
  if (sel.kind === 'pgid' && c.pgid !== sel.pgid) return false;
  if ((options & WALL) !== 0) return true;
  const clone = c.exitSignal !== SIGCHLD;
  return (options & WCLONE) !== 0 ? clone : !clone;
}

/** The zombie child that `sel` picks, null if there are live ones only, or -ECHILD. */
function findZombie(t: Task, sel: Select, options: number): Task | null | number {
  let any = false;
  for (const c of t.leader.children) {
    if (!matches(c, sel, options)) continue;
    any = true;
    if (c.zombie) return c;
  }
  return any ? null : -Errno.ECHILD;
}

/**
 * No child has changed state yet: park until one does (an exit wakes its parent's threads,
 * kernel/process_tree.ts) or a signal comes.
 */
function waitForChild(t: Task): number {
  if (signalPending(t)) return -Errno.ERESTARTSYS;
  restartOf(t, -1n).evented = true;
  return BLOCKED;
}

/** Implements Linux syscall wait4(2), with the reaped child's rusage. */
function wait4(t: Task, a: readonly bigint[]): number {
  const pid = int(a[0] ?? 0n);
  const statusPtr = a[1] ?? 0n;
  const options = uint(a[2] ?? 0n);
  const rusagePtr = a[3] ?? 0n;
  if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE)) !== 0)
    return -Errno.EINVAL;
  let sel: Select;
  if (pid === -1) sel = { kind: 'any' };
  else if (pid > 0) sel = { kind: 'pid', pid };
  else if (pid === 0) sel = { kind: 'pgid', pgid: t.leader.pgid };
  else if (pid === -0x80000000) return -Errno.ESRCH;
  else sel = { kind: 'pgid', pgid: -pid };
  const z = findZombie(t, sel, options);
  if (typeof z === 'number') return z;
  if (z === null) {
    if ((options & WNOHANG) !== 0) return 0;
    return waitForChild(t);
  }
  if (statusPtr !== 0n) {
    const r = t.mem.copyOut(statusPtr, new Uint8Array(new Int32Array([waitStatus(z.exit)]).buffer));
    if (r < 0) return r;
  }
  if (rusagePtr !== 0n) {
    const r = t.mem.copyOut(rusagePtr, childRusage(z));
    if (r < 0) return r;
  }
  reap(z);
  return z.tid;
}

/** Implements Linux syscall waitid(2) for exited children (P_ALL, P_PID, P_PGID). */
function waitid(t: Task, a: readonly bigint[]): number {
  const idtype = int(a[0] ?? 0n);
  const id = int(a[1] ?? 0n);
  const infop = a[2] ?? 0n;
  const options = uint(a[3] ?? 0n);
  const rusagePtr = a[4] ?? 0n;
  if (
    (options &
      ~(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE)) !==
    0
  )
    return -Errno.EINVAL;
  if ((options & (WEXITED | WSTOPPED | WCONTINUED)) === 0) return -Errno.EINVAL;
  let sel: Select;
  if (idtype === P_ALL) sel = { kind: 'any' };
  else if (idtype === P_PID) {
    if (id <= 0) return -Errno.EINVAL;
    sel = { kind: 'pid', pid: id };
  } else if (idtype === P_PGID) {
    if (id < 0) return -Errno.EINVAL;
    sel = { kind: 'pgid', pgid: id === 0 ? t.leader.pgid : id };
  } else return -Errno.EINVAL;
  // Only exits are reported: stops and continues do not happen in this Sentry.
  let z = findZombie(t, sel, options);
  if (typeof z === 'number') return z;
  if ((options & WEXITED) === 0) z = null;
  if (z === null) {
    if ((options & WNOHANG) !== 0) {
      if (infop !== 0n) {
        const r = t.mem.copyOut(infop, new Uint8Array(128));
        if (r < 0) return r;
      }
      return 0;
    }
    return waitForChild(t);
  }
  if (infop !== 0n) {
    const { code, status } = childCode(z.exit);
    const r = t.mem.copyOut(
      infop,
      siginfoBytes({ signo: SIGCHLD, code, pid: z.tid, uid: z.creds.uid, status }),
    );
    if (r < 0) return r;
  }
  if (rusagePtr !== 0n) {
    const r = t.mem.copyOut(rusagePtr, childRusage(z));
    if (r < 0) return r;
  }
  if ((options & WNOWAIT) === 0) reap(z);
  return 0;
}

function findProcess(t: Task, pid: number): Task | undefined {
  const p = pid === 0 ? t.leader : t.kernel.tasks.get(pid);
  return p === undefined || p.zombie || p !== p.leader ? undefined : p;
}

/** Implements Linux syscall getpgid(2). */
function getpgid(t: Task, a: readonly bigint[]): number {
  const p = findProcess(t, int(a[0] ?? 0n));
  return p === undefined ? -Errno.ESRCH : p.pgid;
}

/** Implements Linux syscall getsid(2). */
function getsid(t: Task, a: readonly bigint[]): number {
  const p = findProcess(t, int(a[0] ?? 0n));
  return p === undefined ? -Errno.ESRCH : p.sid;
}

/** Implements Linux syscall setpgid(2): the caller or one of its children, within its session. */
function setpgid(t: Task, a: readonly bigint[]): number {
  const pid = int(a[0] ?? 0n);
  let pgid = int(a[1] ?? 0n);
  if (pgid < 0) return -Errno.EINVAL;
  const self = t.leader;
  const p = pid === 0 ? self : t.kernel.tasks.get(pid);
  if (p === undefined || p !== p.leader || (p !== self && p.parent !== self)) return -Errno.ESRCH;
  if (p.parent === self && p.sid !== self.sid) return -Errno.EPERM;
  if (p.sid === p.tid) return -Errno.EPERM; // a session leader
  if (pgid === 0) pgid = p.tid;
  if (pgid !== p.tid) {
    const inSession = [...t.kernel.tasks.values()].some(
      (u) => !u.zombie && u.pgid === pgid && u.sid === self.sid,
    );
    if (!inSession) return -Errno.EPERM;
  }
  p.pgid = pgid;
  return 0;
}

/** Implements Linux syscall setsid(2). */
function setsid(t: Task): number {
  const self = t.leader;
  for (const u of t.kernel.tasks.values())
    if (!u.zombie && u.pgid === self.tgid) return -Errno.EPERM;
  self.sid = self.tgid;
  self.pgid = self.tgid;
  return self.sid;
}

export const processTreeSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [
    56,
    {
      name: 'clone',
      handler: clone,
      support: 'partial',
      note: "processes and threads (threads share files and fs, as pthreads asks); CLONE_VM without CLONE_THREAD only with CLONE_VFORK (the child runs in its parent's memory, the parent waiting)",
    },
  ],
  [
    57,
    {
      name: 'fork',
      handler: (t) => doFork(t, SIGCHLD, 0n, 0n, 0n, 0n),
      support: 'full',
      note: 'memory is copied at fork (no copy-on-write yet)',
    },
  ],
  [
    58,
    {
      name: 'vfork',
      handler: (t) => doFork(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0n, 0n, 0n, 0n),
      support: 'partial',
      note: 'the child gets a copy of memory; the parent waits until it execs or exits',
    },
  ],
  [59, { name: 'execve', handler: sysExecve, support: 'full' }],
  [
    61,
    {
      name: 'wait4',
      handler: wait4,
      support: 'partial',
      note: 'no stopped/continued children',
    },
  ],
  [
    247,
    { name: 'waitid', handler: waitid, support: 'partial', note: 'exits only; rusage is zeroed' },
  ],
  [
    110,
    {
      name: 'getppid',
      handler: (t) => t.leader.parent?.tgid ?? 0,
      support: 'full',
      note: 'the parent of the init process is outside the PID namespace (0)',
    },
  ],
  [109, { name: 'setpgid', handler: setpgid, support: 'full' }],
  [121, { name: 'getpgid', handler: getpgid, support: 'full' }],
  [111, { name: 'getpgrp', handler: (t) => t.leader.pgid, support: 'full' }],
  [112, { name: 'setsid', handler: setsid, support: 'full' }],
  [124, { name: 'getsid', handler: getsid, support: 'full' }],
]);
