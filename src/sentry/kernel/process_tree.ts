// The process tree: fork (a copy of a task in a new address space), exit (resources released,
// the parent told with its exit signal, children handed to init) and reaping (wait's end of a
// zombie). PIDs are the sandbox's own, allocated by the Kernel.
//
// It must never leave a host stub behind a task that is gone, and never let a task outlive
// the init process: when init exits, every other task is killed with it.

import { Errno } from '../../abi/linux/errno.js';
import { Reg } from '../../platform/platform.js';
import { SIG_DFL, SIG_IGN, Task, type ExitState } from './task.js';
import { sendSignal } from './signals.js';

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
export function forkTask(parent: Task, fa: ForkArgs): Task | number {
  const k = parent.kernel;
  const as = k.platform.newAddressSpace();
  if (typeof as === 'number') return as;
  const mm = parent.mm.fork(as);
  if (typeof mm === 'number') {
    as.release();
    return mm;
  }
  const fp = parent.mm.as.getFpState();
  if (typeof fp !== 'number') as.setFpState(fp);
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
  for (const [sig, act] of parent.sigactions) child.sigactions.set(sig, { ...act });
  child.sigmask = parent.sigmask;
  child.altStack = { ...parent.altStack };
  child.argv = parent.argv;
  child.envp = parent.envp;
  child.exePath = parent.exePath;
  child.pgid = parent.pgid;
  child.sid = parent.sid;
  child.exitSignal = fa.exitSignal;
  child.parent = (fa.flags & CLONE_PARENT) !== 0 && parent.parent !== null ? parent.parent : parent;
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

/**
 * What happens once `t` has decided to exit (t.exit is set): it leaves the scheduler, its
 * address space and files are released, its children go to init, and its parent learns of it
 * (a zombie to wait for, or reaped at once when the parent ignores SIGCHLD).
 */
export function exitTask(t: Task): void {
  const k = t.kernel;
  const qi = k.runQueue.indexOf(t);
  if (qi >= 0) k.runQueue.splice(qi, 1);
  k.blocked.delete(t);
  t.blocked = undefined;
  t.restart = undefined;
  t.files.closeAll();
  t.mm.releaseAll();
  t.mm.as.release();
  t.pendingSignals = 0n;
  t.pendingInfo.clear();
  if (t.vforkChild !== null) t.vforkChild = null;
  t.vforkReleased = true;
  const init = k.init;
  for (const c of t.children) {
    c.parent = init;
    if (init !== null && init !== t) init.children.add(c);
  }
  t.children.clear();
  k.wake = true;
  k.onTasksChanged?.();
  const p = t.parent;
  if (p === null || p.exit.kind !== 'running') {
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
    sendSignal(p, { signo: t.exitSignal, code, pid: t.tid, uid: t.creds.uid, status });
  }
}

/** Removes a zombie for good: from its parent's children and from the PID table. */
export function reap(t: Task): void {
  t.parent?.children.delete(t);
  t.kernel.tasks.delete(t.tid);
}

/** When init ends, every other task of the namespace dies with SIGKILL (Linux's zap_pid_ns). */
export function killAllBut(init: Task): void {
  const k = init.kernel;
  for (const t of [...k.tasks.values()]) {
    if (t === init || t.zombie || t.exit.kind !== 'running') continue;
    t.exit = { kind: 'killed', signo: 9, core: false };
    exitTask(t);
  }
  k.tasks.clear();
}

/** True if `t` may not send signals to `target` (Linux's kill_ok_by_cred, simplified). */
export function killDenied(t: Task, target: Task): number {
  const c = t.creds;
  const d = target.creds;
  if (c.euid === 0) return 0;
  if (c.euid === d.uid || c.euid === d.suid || c.uid === d.uid || c.uid === d.suid) return 0;
  return -Errno.EPERM;
}
