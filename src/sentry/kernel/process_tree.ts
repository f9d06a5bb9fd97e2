// The process tree: fork (a copy of a task in a new address space), exit (resources released,
// the parent told with its exit signal, children handed to init) and reaping (wait's end of a
// zombie). PIDs are the sandbox's own, allocated by the Kernel.
//
// It must never leave a host stub behind a task that is gone, and never let a task outlive
// the init process: when init exits, every other task is killed with it.

import { deleteProcessTimers } from './posix_timers.js';
import { CAP_KILL, CAP_SYS_ADMIN, CAP_SYS_RESOURCE } from '../../abi/linux/capability.js';
import { capable } from './credentials.js';
import { Errno } from '../../abi/linux/errno.js';
import { Reg, type ThreadContext } from '../../platform/platform.js';
import type { MemoryManager } from '../mm/memory_manager.js';
import { SIG_DFL, SIG_IGN, Task, type ExitState } from './task.js';
import { accountReap, accountThreadEnd, maxRssKb } from './cputime.js';
import { wakeTask } from './block.js';
import { futexWake } from './futex.js';
import { signalProcess } from './signals.js';

export const CLONE_VM = 0x100;
export const CLONE_FS = 0x200;
export const CLONE_FILES = 0x400;
export const CLONE_SIGHAND = 0x800;
export const CLONE_PIDFD = 0x1000;
export const CLONE_PTRACE = 0x2000;
export const CLONE_VFORK = 0x4000;
export const CLONE_PARENT = 0x8000;
export const CLONE_THREAD = 0x10000;
export const CLONE_NEWNS = 0x20000;
export const CLONE_SYSVSEM = 0x40000;
export const CLONE_SETTLS = 0x80000;
export const CLONE_PARENT_SETTID = 0x100000;
export const CLONE_CHILD_CLEARTID = 0x200000;
export const CLONE_DETACHED = 0x400000;
export const CLONE_UNTRACED = 0x800000;
export const CLONE_CHILD_SETTID = 0x1000000;

const SIGCHLD = 17;
const SA_NOCLDWAIT = 0x2n;
const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;

export interface ForkArgs {
  flags: number;
  exitSignal: number;
  stack: bigint;
  tls: bigint;
  parentTid: bigint;
  childTid: bigint;
}

function u32(v: number): Uint8Array {
  return new Uint8Array(new Int32Array([v]).buffer);
}

/**
 * Creates a child of `parent` as fork(2) does: a copy of its memory in a new address space,
 * its registers (rax = 0 in the child), a copy of its file table and file system context,
 * its signal dispositions and mask. The child is queued to run; returns it, or -errno.
 */
/**
 * Whether one more task may be made for `parent` (copy_process's checks): the sandbox's pids
 * limit, then RLIMIT_NPROC over the tasks of its real uid, from which root and holders of
 * CAP_SYS_RESOURCE or CAP_SYS_ADMIN are exempt.
 */
function mayClone(parent: Task): boolean {
  const k = parent.kernel;
  if (k.tasks.size >= k.pidsLimit) return false;
  const lim = parent.rlimits.get(RLIMIT_NPROC)?.cur;
  const c = parent.creds;
  if (lim === undefined || c.uid === 0) return true;
  if (capable(c, CAP_SYS_RESOURCE) || capable(c, CAP_SYS_ADMIN)) return true;
  let n = 0n;
  for (const t of k.tasks.values()) if (t.creds.uid === c.uid) n++;
  return n < lim;
}

const RLIMIT_NPROC = 6;

export function forkTask(parent: Task, fa: ForkArgs): Task | number {
  const k = parent.kernel;
  if (!mayClone(parent)) return -Errno.EAGAIN;
  // vfork (CLONE_VM): the child runs in its parent's address space, on a thread of its own,
  // while the parent waits; otherwise a new address space shares memory copy-on-write.
  const sharesVm = (fa.flags & CLONE_VM) !== 0;
  let mm: MemoryManager;
  let ctx: ThreadContext;
  if (sharesVm) {
    const th = parent.mm.as.newThread();
    if (typeof th === 'number') return th;
    mm = parent.mm;
    mm.users++;
    ctx = th;
  } else {
    const as = k.platform.newAddressSpace();
    if (typeof as === 'number') return as;
    mm = parent.mm.fork(as);
    ctx = as;
  }
  const fp = parent.thread.getFpState();
  if (typeof fp !== 'number') ctx.setFpState(fp);
  const regs = parent.regs.slice();
  regs[Reg.rax] = 0n;
  if (fa.stack !== 0n) regs[Reg.rsp] = fa.stack;
  if ((fa.flags & CLONE_SETTLS) !== 0) regs[Reg.fs_base] = fa.tls;
  const child = new Task(
    k,
    k.allocPid(),
    regs,
    mm,
    parent.files.fork(),
    parent.fs.fork(),
    { ...parent.creds, groups: [...parent.creds.groups] },
    parent.comm,
    new Map([...parent.rlimits].map(([r, v]) => [r, { ...v }])),
  );
  child.thread = ctx;
  for (const [sig, act] of parent.sigactions) child.sigactions.set(sig, { ...act });
  child.sigmask = parent.sigmask;
  child.altStack = { ...parent.altStack };
  child.personality = parent.personality;
  child.nice = parent.nice;
  child.noNewPrivs = parent.noNewPrivs;
  child.seccomp = { ...parent.seccomp };
  child.cpuMask = parent.cpuMask;
  child.argv = parent.argv;
  child.envp = parent.envp;
  child.exePath = parent.exePath;
  const pl = parent.leader;
  child.pgid = pl.pgid;
  child.sid = pl.sid;
  child.exitSignal = fa.exitSignal;
  child.parent = (fa.flags & CLONE_PARENT) !== 0 && pl.parent !== null ? pl.parent : pl;
  child.parent.children.add(child);
  if ((fa.flags & CLONE_CHILD_SETTID) !== 0) mm.copyOut(fa.childTid, u32(child.tid));
  if ((fa.flags & CLONE_CHILD_CLEARTID) !== 0) child.clearChildTid = fa.childTid;
  if ((fa.flags & CLONE_PARENT_SETTID) !== 0) {
    parent.mm.copyOut(fa.parentTid, u32(child.tid));
    mm.copyOut(fa.parentTid, u32(child.tid));
  }
  k.tasks.set(child.tid, child);
  k.runQueue.push(child);
  k.onTasksChanged?.();
  return child;
}

/**
 * Creates a thread of `parent`'s process (clone with CLONE_THREAD): the same address space,
 * file table, fs context and signal dispositions, its own registers (rax = 0, the stack and
 * TLS it was given) and a host thread of its own in the same stub. Queued to run.
 */
export function cloneThread(parent: Task, fa: ForkArgs): Task | number {
  const k = parent.kernel;
  if (!mayClone(parent)) return -Errno.EAGAIN;
  const ctx = parent.mm.as.newThread();
  if (typeof ctx === 'number') return ctx;
  const fp = parent.thread.getFpState();
  if (typeof fp !== 'number') ctx.setFpState(fp);
  const regs = parent.regs.slice();
  regs[Reg.rax] = 0n;
  if (fa.stack !== 0n) regs[Reg.rsp] = fa.stack;
  if ((fa.flags & CLONE_SETTLS) !== 0) regs[Reg.fs_base] = fa.tls;
  const t = new Task(
    k,
    k.allocPid(),
    regs,
    parent.mm,
    parent.files,
    parent.fs,
    parent.creds,
    parent.comm,
    parent.rlimits,
  );
  t.thread = ctx;
  t.leader = parent.leader;
  t.threads = parent.threads;
  t.threads.add(t);
  t.sigactions = parent.sigactions;
  t.sigmask = parent.sigmask;
  t.argv = parent.argv;
  t.envp = parent.envp;
  t.exePath = parent.exePath;
  t.exitSignal = -1;
  // Per-thread state a new thread inherits from its creator, as Linux's copy_process.
  t.noNewPrivs = parent.noNewPrivs;
  t.seccomp = { ...parent.seccomp };
  t.cpuMask = parent.cpuMask;
  t.nice = parent.nice;
  t.personality = parent.personality;
  if ((fa.flags & CLONE_CHILD_SETTID) !== 0) parent.mm.copyOut(fa.childTid, u32(t.tid));
  if ((fa.flags & CLONE_CHILD_CLEARTID) !== 0) t.clearChildTid = fa.childTid;
  if ((fa.flags & CLONE_PARENT_SETTID) !== 0) parent.mm.copyOut(fa.parentTid, u32(t.tid));
  k.tasks.set(t.tid, t);
  k.runQueue.push(t);
  return t;
}

/** The wait status word of an ended task (as wait4 reports it). */
export function waitStatus(e: ExitState): number {
  if (e.kind === 'exited') return (e.code & 0xff) << 8;
  if (e.kind === 'killed') return (e.signo & 0x7f) | (e.core ? 0x80 : 0);
  return 0;
}

/** SIGCHLD's si_code and si_status for an ended task. */
export function childCode(e: ExitState): { code: number; status: number } {
  if (e.kind === 'exited') return { code: CLD_EXITED, status: e.code & 0xff };
  if (e.kind === 'killed') return { code: e.core ? CLD_DUMPED : CLD_KILLED, status: e.signo };
  return { code: 0, status: 0 };
}

/** Whether any thread of `p`'s process still runs. */
export function processAlive(p: Task): boolean {
  for (const u of p.threads) if (u.exit.kind === 'running') return true;
  return false;
}

/**
 * One thread leaves: off the scheduler, its clear_child_tid written and woken (pthread_join),
 * its host thread ended (not the address space's first one, which lasts as long as it).
 * With `groupDying`, the whole process goes next: nothing is written or woken.
 */
/** Takes `u` off the scheduler: out of the run queue, its parked call (if any) dropped. */
export function unschedule(u: Task): void {
  const k = u.kernel;
  const qi = k.runQueue.indexOf(u);
  if (qi >= 0) k.runQueue.splice(qi, 1);
  k.unpark(u);
  u.blocked = undefined;
  u.restart = undefined;
}

function endThread(u: Task, groupDying: boolean): void {
  const k = u.kernel;
  u.ended = true;
  unschedule(u);
  u.pendingSignals = 0n;
  u.pendingInfo.clear();
  if (!groupDying) {
    if (u.clearChildTid !== 0n && u.mm.copyOut(u.clearChildTid, u32(0)) >= 0)
      futexWake(u, u.clearChildTid, 1, -1);
    if (u.thread !== u.mm.as) u.mm.as.endThread(u.thread);
  }
  if (u !== u.leader) {
    accountThreadEnd(u);
    u.threads.delete(u);
    k.tasks.delete(u.tid);
  }
  k.wake = true;
}

/**
 * What happens once `t` has decided to exit (t.exit is set). exit(2) of one thread of several
 * ends that thread only. Otherwise the process ends: its other threads die, its address space
 * and files are released, its children go to init, and its parent learns of it (a zombie to
 * wait for, or reaped at once when the parent ignores SIGCHLD).
 */
export function exitTask(t: Task): void {
  const live = [...t.threads].filter((u) => u !== t && u.exit.kind === 'running');
  if (t.threadExitOnly && live.length > 0) {
    endThread(t, false);
    return;
  }
  for (const u of live) {
    u.exit = t.exit;
    endThread(u, true);
  }
  const leader = t.leader;
  if (t !== leader) {
    endThread(t, true);
    leader.exit = t.exit;
  }
  exitProcess(leader);
}

/** The end of a process, `t` its leader. */
function exitProcess(t: Task): void {
  const k = t.kernel;
  endThread(t, true);
  deleteProcessTimers(t);
  k.cpuTimers.delete(t);
  t.files.closeAll();
  maxRssKb(t);
  t.mm.dropUser(t.thread);
  if (t.vforkChild !== null) t.vforkChild = null;
  t.vforkReleased = true;
  if (t === k.init) k.initEnded = true;
  const init = k.init;
  for (const c of t.children) {
    c.parent = init;
    if (init !== null && init !== t) init.children.add(c);
  }
  const orphans = t.children.size > 0;
  t.children.clear();
  k.wake = true;
  k.onTasksChanged?.();
  const p = t.parent;
  // Whoever may be in wait4/waitid for this exit (or for the orphans' exits) tries again.
  if (p !== null) for (const u of p.leader.threads) wakeTask(u);
  if (orphans && init !== null) for (const u of init.threads) wakeTask(u);
  if (p === null || !processAlive(p)) {
    t.zombie = true;
    if (p === null) k.tasks.delete(t.tid);
    return;
  }
  const act = p.sigactions.get(SIGCHLD);
  const autoReap =
    t.exitSignal === SIGCHLD &&
    act !== undefined &&
    (act.handler === SIG_IGN || (act.handler === SIG_DFL && (act.flags & SA_NOCLDWAIT) !== 0n));
  if (autoReap) {
    reap(t);
    return;
  }
  t.zombie = true;
  if (t.exitSignal !== 0) {
    const { code, status } = childCode(t.exit);
    signalProcess(p, { signo: t.exitSignal, code, pid: t.tid, uid: t.creds.uid, status });
  }
}

/** Removes a zombie for good: from its parent's children and from the PID table. */
export function reap(t: Task): void {
  if (t.parent !== null) accountReap(t.parent, t);
  t.parent?.children.delete(t);
  t.kernel.tasks.delete(t.tid);
}

/** When init ends, every other task of the namespace dies with SIGKILL (Linux's zap_pid_ns). */
export function killAllBut(init: Task): void {
  const k = init.kernel;
  for (const t of [...k.tasks.values()]) {
    if (t.leader === init || t.zombie || t.exit.kind !== 'running') continue;
    t.exit = { kind: 'killed', signo: 9, core: false };
    exitTask(t);
  }
  k.tasks.clear();
}

/** True if `t` may not send signals to `target` (Linux's kill_ok_by_cred, simplified). */
export function killDenied(t: Task, target: Task): number {
  const c = t.creds;
  const d = target.creds;
  if (capable(c, CAP_KILL)) return 0;
  if (c.euid === d.uid || c.euid === d.suid || c.uid === d.uid || c.uid === d.suid) return 0;
  return -Errno.EPERM;
}
