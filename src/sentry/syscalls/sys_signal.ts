// Signal system calls: dispositions (rt_sigaction), masks (rt_sigprocmask), pending sets
// (rt_sigpending), waiting (rt_sigsuspend, pause), the alternate stack (sigaltstack), sending
// to processes and process groups (kill, tgkill, tkill) and rt_sigreturn. Delivery itself is
// kernel/signals.ts. Nothing here signals a host process.

import { Errno } from '../../abi/linux/errno.js';
import {
  MINSIGSTKSZ,
  SI_TKILL,
  SI_USER,
  SS_AUTODISARM,
  SS_DISABLE,
  SS_ONSTACK,
  UNBLOCKABLE,
  altStackFlags,
  sendSignal,
  siginfoBytes,
  takeSignal,
  signalProcess,
  sigreturn,
} from '../kernel/signals.js';
import { SIG_DFL, type Task } from '../kernel/task.js';
import { killDenied } from '../kernel/process_tree.js';
import { BLOCKED, restartOf, signalPending, timeLeft, wakeTask } from '../kernel/block.js';
import { readTimespecNs } from './sys_poll.js';
import { Reg } from '../../platform/platform.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

export const SIGKILL = 9;
export const SIGSTOP = 19;
const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
/** The sa_flags bits Linux knows on x86-64. */
const KNOWN_SA_FLAGS =
  0x1n | 0x2n | 0x4n | 0x04000000n | 0x08000000n | 0x10000000n | 0x40000000n | 0x80000000n;

function u64s(values: bigint[]): Uint8Array {
  return new Uint8Array(new BigUint64Array(values).buffer);
}

/** Implements Linux syscall rt_sigaction(2). */
function rtSigaction(t: Task, a: readonly bigint[]): number {
  const sig = int(a[0] ?? 0n);
  if ((a[3] ?? 0n) !== 8n) return -Errno.EINVAL;
  if (sig < 1 || sig > 64) return -Errno.EINVAL;
  const actPtr = a[1] ?? 0n;
  const oldPtr = a[2] ?? 0n;
  if (actPtr !== 0n && (sig === SIGKILL || sig === SIGSTOP)) return -Errno.EINVAL;
  let next;
  if (actPtr !== 0n) {
    const b = t.mem.copyIn(actPtr, 32);
    if (typeof b === 'number') return b;
    const v = new BigUint64Array(b.buffer);
    next = {
      handler: v[0] ?? 0n,
      flags: (v[1] ?? 0n) & KNOWN_SA_FLAGS,
      restorer: v[2] ?? 0n,
      mask: (v[3] ?? 0n) & ~UNBLOCKABLE,
    };
  }
  if (oldPtr !== 0n) {
    const old = t.sigactions.get(sig) ?? { handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n };
    const r = t.mem.copyOut(oldPtr, u64s([old.handler, old.flags, old.restorer, old.mask]));
    if (r < 0) return r;
  }
  if (next) {
    if (next.handler === SIG_DFL) t.sigactions.delete(sig);
    else t.sigactions.set(sig, next);
  }
  return 0;
}

/** Implements Linux syscall rt_sigprocmask(2). */
function rtSigprocmask(t: Task, a: readonly bigint[]): number {
  const how = int(a[0] ?? 0n);
  const setPtr = a[1] ?? 0n;
  const oldPtr = a[2] ?? 0n;
  if ((a[3] ?? 0n) !== 8n) return -Errno.EINVAL;
  let set: bigint | undefined;
  if (setPtr !== 0n) {
    const b = t.mem.copyIn(setPtr, 8);
    if (typeof b === 'number') return b;
    set = new BigUint64Array(b.buffer)[0] ?? 0n;
    if (how !== SIG_BLOCK && how !== SIG_UNBLOCK && how !== SIG_SETMASK) return -Errno.EINVAL;
  }
  if (oldPtr !== 0n) {
    const r = t.mem.copyOut(oldPtr, u64s([t.sigmask]));
    if (r < 0) return r;
  }
  if (set !== undefined) {
    if (how === SIG_BLOCK) t.sigmask |= set;
    else if (how === SIG_UNBLOCK) t.sigmask &= ~set;
    else t.sigmask = set;
    t.sigmask &= ~UNBLOCKABLE;
  }
  return 0;
}

/** Implements Linux syscall rt_sigpending(2). */
function rtSigpending(t: Task, a: readonly bigint[]): number {
  const size = a[1] ?? 0n;
  if (size > 8n) return -Errno.EINVAL;
  const b = u64s([t.pendingSignals & t.sigmask]).subarray(0, Number(size));
  const r = t.mem.copyOut(a[0] ?? 0n, b);
  return r < 0 ? r : 0;
}

/** Implements Linux syscall rt_sigsuspend(2): the mask is restored by the signal's frame. */
function rtSigsuspend(t: Task, a: readonly bigint[]): number {
  if (t.restart === undefined) {
    if ((a[1] ?? 0n) !== 8n) return -Errno.EINVAL;
    const b = t.mem.copyIn(a[0] ?? 0n, 8);
    if (typeof b === 'number') return b;
    const r = restartOf(t, -1n);
    r.data = t.sigmask;
    // Only a signal ends it, and queueing one wakes the task.
    r.evented = true;
    t.sigmask = (new BigUint64Array(b.buffer)[0] ?? 0n) & ~UNBLOCKABLE;
  }
  if (!signalPending(t)) return BLOCKED;
  // The caller's mask comes back through the frame of the signal that ended the wait.
  const old = t.restart?.data;
  if (typeof old === 'bigint') t.savedMaskAfterSuspend = old;
  return -Errno.EINTR;
}

/** Implements Linux syscall pause(2). */
function pause(t: Task): number {
  if (signalPending(t)) return -Errno.EINTR;
  restartOf(t, -1n).evented = true;
  return BLOCKED;
}

/** Implements Linux syscall sigaltstack(2). */
function sigaltstack(t: Task, a: readonly bigint[]): number {
  const newPtr = a[0] ?? 0n;
  const oldPtr = a[1] ?? 0n;
  let next: { sp: bigint; size: bigint; flags: number } | undefined;
  if (newPtr !== 0n) {
    const b = t.mem.copyIn(newPtr, 24);
    if (typeof b === 'number') return b;
    const dv = new DataView(b.buffer);
    const sp = dv.getBigUint64(0, true);
    const flags = dv.getInt32(8, true);
    const size = dv.getBigUint64(16, true);
    if ((altStackFlags(t) & SS_ONSTACK) !== 0) return -Errno.EPERM;
    const mode = flags & ~SS_AUTODISARM;
    if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) return -Errno.EINVAL;
    if (mode === SS_DISABLE) next = { sp: 0n, size: 0n, flags: SS_DISABLE };
    else {
      if (size < BigInt(MINSIGSTKSZ)) return -Errno.ENOMEM;
      next = { sp, size, flags: flags & SS_AUTODISARM };
    }
  }
  if (oldPtr !== 0n) {
    const ss = new Uint8Array(24);
    const dv = new DataView(ss.buffer);
    dv.setBigUint64(0, t.altStack.sp, true);
    dv.setInt32(8, altStackFlags(t), true);
    dv.setBigUint64(16, t.altStack.size, true);
    const r = t.mem.copyOut(oldPtr, ss);
    if (r < 0) return r;
  }
  if (next) t.altStack = next;
  return 0;
}

/** Implements Linux syscall kill(2): one process, a process group, or every process but init. */
function kill(t: Task, a: readonly bigint[]): number {
  const pid = int(a[0] ?? 0n);
  const sig = int(a[1] ?? 0n);
  if (sig < 0 || sig > 64) return -Errno.EINVAL;
  const info = { signo: sig, code: SI_USER, pid: t.tgid, uid: t.creds.uid };
  const k = t.kernel;
  if (pid > 0) {
    const p = k.tasks.get(pid);
    if (p === undefined) return -Errno.ESRCH;
    if (p.leader.zombie) return 0;
    const denied = killDenied(t, p);
    if (denied < 0) return denied;
    signalProcess(p, info);
    return 0;
  }
  if (pid === -0x80000000) return -Errno.ESRCH;
  const group = pid === 0 ? t.leader.pgid : -pid;
  let found = false;
  let sent = false;
  for (const p of [...k.tasks.values()]) {
    if (p.zombie || p !== p.leader) continue;
    if (pid === -1 ? p.tgid === 1 || p === t.leader : p.pgid !== group) continue;
    found = true;
    if (killDenied(t, p) < 0) continue;
    sent = true;
    signalProcess(p, info);
  }
  // kill(-1) includes the caller itself on Linux.
  if (pid === -1) {
    if (t.tgid !== 1) signalProcess(t, info);
    return 0;
  }
  if (!found) return -Errno.ESRCH;
  return sent ? 0 : -Errno.EPERM;
}

/** Implements Linux syscall tgkill(2). */
function tgkill(t: Task, a: readonly bigint[]): number {
  const tgid = int(a[0] ?? 0n);
  const tid = int(a[1] ?? 0n);
  const sig = int(a[2] ?? 0n);
  if (tgid <= 0 || tid <= 0 || sig < 0 || sig > 64) return -Errno.EINVAL;
  const p = t.kernel.tasks.get(tid);
  if (p === undefined || p.zombie || p.exit.kind !== 'running' || p.tgid !== tgid)
    return -Errno.ESRCH;
  const denied = killDenied(t, p);
  if (denied < 0) return denied;
  sendSignal(p, { signo: sig, code: SI_TKILL, pid: t.tgid, uid: t.creds.uid });
  return 0;
}

/** Implements Linux syscall tkill(2). */
function tkill(t: Task, a: readonly bigint[]): number {
  const target = t.kernel.tasks.get(int(a[0] ?? 0n));
  return tgkill(t, [BigInt(target?.tgid ?? t.tgid), a[0] ?? 0n, a[1] ?? 0n]);
}

/** Implements Linux syscall rt_sigreturn(2). A bad frame kills the task with SIGSEGV. */
function rtSigreturn(t: Task): bigint {
  if (!sigreturn(t)) {
    t.kernel.log.debug(
      `task ${t.tid}: rt_sigreturn: bad frame at 0x${(t.regs[Reg.rsp] ?? 0n).toString(16)}: SIGSEGV`,
    );
    t.exit = { kind: 'killed', signo: 11, core: true };
    return 0n;
  }
  return t.regs[Reg.rax] ?? 0n;
}

/**
 * Implements Linux syscall rt_sigtimedwait(2) (sigwaitinfo, sigtimedwait, sigwait): takes a
 * pending signal of the set — the caller's own, then one waiting on its process's leader —
 * or waits for one until the timeout (EAGAIN); another signal that is delivered ends the
 * wait with EINTR.
 */
function rtSigtimedwait(t: Task, a: readonly bigint[]): number {
  let r = t.restart;
  if (r === undefined) {
    if ((a[3] ?? 0n) !== 8n) return -Errno.EINVAL;
    const b = t.mem.copyIn(a[0] ?? 0n, 8);
    if (typeof b === 'number') return b;
    const timeout = readTimespecNs(t, a[2] ?? 0n);
    if (typeof timeout === 'number') return timeout;
    r = restartOf(t, timeout);
    r.data = (new BigUint64Array(b.buffer)[0] ?? 0n) & ~UNBLOCKABLE;
    // Woken by any signal queued to it, or at the timeout.
    r.evented = true;
  }
  const set = typeof r.data === 'bigint' ? r.data : 0n;
  const info = takeSignal(t, set);
  if (info !== undefined) {
    if ((a[1] ?? 0n) !== 0n) {
      const w = t.mem.copyOut(a[1] ?? 0n, siginfoBytes(info));
      if (w < 0) return w;
    }
    return info.signo;
  }
  if (timeLeft(t, r) === 0n) return -Errno.EAGAIN;
  if (signalPending(t)) return -Errno.EINTR;
  if (r.cleanup === undefined) {
    // A process-directed signal may be queued on another thread: any queued signal wakes it.
    const k = t.kernel;
    const wake = (): void => wakeTask(t);
    k.signalWatchers.add(wake);
    r.cleanup = () => k.signalWatchers.delete(wake);
  }
  return BLOCKED;
}

export const signalSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [13, { name: 'rt_sigaction', handler: rtSigaction, support: 'full' }],
  [14, { name: 'rt_sigprocmask', handler: rtSigprocmask, support: 'full' }],
  [
    15,
    {
      name: 'rt_sigreturn',
      handler: rtSigreturn,
      support: 'partial',
      note: 'fxsave image only (no AVX state)',
    },
  ],
  [127, { name: 'rt_sigpending', handler: rtSigpending, support: 'full' }],
  [128, { name: 'rt_sigtimedwait', handler: rtSigtimedwait, support: 'full' }],
  [
    130,
    {
      name: 'rt_sigsuspend',
      handler: rtSigsuspend,
      support: 'full',
    },
  ],
  [34, { name: 'pause', handler: (t) => pause(t), support: 'full' }],
  [131, { name: 'sigaltstack', handler: sigaltstack, support: 'full' }],
  [62, { name: 'kill', handler: kill, support: 'full' }],
  [234, { name: 'tgkill', handler: tgkill, support: 'full' }],
  [200, { name: 'tkill', handler: tkill, support: 'full' }],
]);
