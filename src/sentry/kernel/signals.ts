// Signal state and delivery for a task, as Linux does it on x86-64: signals are queued as
// pending (one instance per standard signal), delivered when the task returns to user mode
// if unblocked, by taking the default action, ignoring them, or building an rt_sigframe
// (siginfo, ucontext with the saved registers and mask, and the fxsave image) on the stack or
// the alternate stack and entering the handler; rt_sigreturn undoes the frame.
//
// The frame is built from the application's own memory and may be hostile on the way back:
// rt_sigreturn restores only user-changeable flags and keeps the segment selectors, and a
// frame that cannot be written or read kills the task with SIGSEGV, as Linux does.

import { wakeTask } from './block.js';
import {
  FP_LEGACY_SIZE,
  FP_SW_BYTES,
  FP_XSTATE_MAGIC1,
  FP_XSTATE_MAGIC2,
  MCONTEXT_GREGS,
  Reg,
  UC_MCONTEXT,
  UC_SIGMASK,
} from '../../platform/platform.js';
import { SIG_DFL, SIG_IGN, type Task } from './task.js';
import type { PosixTimer } from './posix_timers.js';

export const SIGKILL = 9;
export const SIGSEGV = 11;
export const SIGSTOP = 19;
export const SI_USER = 0;
export const SI_KERNEL = 0x80;
export const SI_TKILL = -6;

const SA_SIGINFO = 0x4n;
const SA_ONSTACK = 0x08000000n;
const SA_RESETHAND = 0x80000000n;
const SA_NODEFER = 0x40000000n;
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 1 << 31;
export const MINSIGSTKSZ = 2048;

export const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));
/** Default action: ignore. */
const DEFAULT_IGNORE = new Set([17, 18, 23, 28]); // SIGCHLD, SIGCONT, SIGURG, SIGWINCH
/** Default action: stop (job control; ignored here, see deliverPending). */
const DEFAULT_STOP = new Set([19, 20, 21, 22]);

export interface SigInfo {
  signo: number;
  code: number;
  /** si_pid/si_uid for kill-like codes, si_addr for faults. */
  pid?: number;
  uid?: number;
  addr?: bigint;
  /** SIGCHLD's si_status: the exit code or the signal. */
  status?: number;
  /** SIGSYS from a seccomp trap: si_syscall, si_arch, and si_errno (the action's data). */
  syscall?: number;
  arch?: number;
  errno?: number;
  /** A POSIX timer's signal (SI_TIMER): the timer, and the overrun handed over when taken. */
  timer?: PosixTimer;
  overrun?: number;
  /** si_value (timers, sigqueue). */
  value?: bigint;
}

/** A timer's signal is being taken (delivered, read, waited for): its overrun goes with it. */
export function settleTimerSignal(info: SigInfo): void {
  const tm = info.timer;
  if (tm === undefined) return;
  info.overrun = tm.overrun;
  tm.overrunLast = tm.overrun;
  tm.overrun = 0;
  if (tm.queued === info) tm.queued = undefined;
}

export interface AltStack {
  sp: bigint;
  size: bigint;
  flags: number;
}

export function bit(sig: number): bigint {
  return 1n << BigInt(sig - 1);
}

/** Queues `info` on `t` (standard signals do not stack: a pending one absorbs the new one). */
export function queueSignal(t: Task, info: SigInfo): void {
  const b = bit(info.signo);
  if ((t.pendingSignals & b) !== 0n) return;
  t.pendingSignals |= b;
  t.pendingInfo.set(info.signo, info);
  wakeTask(t);
  const w = t.kernel.signalWatchers;
  if (w.size > 0) for (const cb of [...w]) cb();
}

/**
 * The threads whose pending signals `t` may take by waiting for them (sigtimedwait, signalfd):
 * its own, then its process leader's, where a process-directed signal waits while every
 * thread blocks it (moat keeps no separate shared-pending queue).
 */
function waitSources(t: Task): Task[] {
  return t.leader !== t ? [t, t.leader] : [t];
}

/** Whether a signal of `set` is pending for `t` to take. */
export function hasSignalIn(t: Task, set: bigint): boolean {
  return waitSources(t).some((u) => (u.pendingSignals & set) !== 0n);
}

/** Dequeues the lowest pending signal of `set` for `t` (see waitSources); its siginfo. */
export function takeSignal(t: Task, set: bigint): SigInfo | undefined {
  for (const u of waitSources(t)) {
    const ready = u.pendingSignals & set;
    if (ready === 0n) continue;
    let sig = 1;
    while (((ready >> BigInt(sig - 1)) & 1n) === 0n) sig++;
    const info = u.pendingInfo.get(sig) ?? { signo: sig, code: SI_USER };
    u.pendingSignals &= ~bit(sig);
    u.pendingInfo.delete(sig);
    settleTimerSignal(info);
    return info;
  }
  return undefined;
}

/** Whether `sig` would be ignored if delivered now (it is then discarded at queue time too). */
export function isIgnored(t: Task, sig: number): boolean {
  if (sig === SIGKILL || sig === SIGSTOP) return false;
  const h = t.sigactions.get(sig)?.handler ?? SIG_DFL;
  return h === SIG_IGN || (h === SIG_DFL && DEFAULT_IGNORE.has(sig));
}

/**
 * Sends `info` to `t` from a kill-like source: dropped if ignored and not blocked, else queued. Like Linux's
 * SIGNAL_UNKILLABLE, the PID namespace's init process (PID 1) never receives a signal whose
 * disposition is the default, except SIGKILL and SIGSTOP sent from outside the sandbox.
 */
export function sendSignal(t: Task, info: SigInfo, fromOutside = false): void {
  if (info.signo === 0) return;
  // A blocked signal is never ignored at sending (sig_ignored): its disposition may change
  // before it is unblocked, and signalfd or sigwait may take it.
  if ((t.sigmask & bit(info.signo)) !== 0n && info.signo !== SIGKILL && info.signo !== SIGSTOP) {
    queueSignal(t, info);
    return;
  }
  if (isIgnored(t, info.signo)) return;
  if (t.tgid === 1 && (t.sigactions.get(info.signo)?.handler ?? SIG_DFL) === SIG_DFL) {
    // SIGKILL and SIGSTOP reach init only from an ancestor namespace (the control plane).
    if (!fromOutside || (info.signo !== SIGKILL && info.signo !== SIGSTOP)) return;
  }
  queueSignal(t, info);
}

/**
 * Sends a process-directed signal to `p`'s process: to a live thread that does not block it,
 * else to the first live thread (where it waits until unblocked), as Linux picks one.
 */
export function signalProcess(p: Task, info: SigInfo, fromOutside = false): void {
  let target: Task | undefined;
  for (const u of p.threads) {
    if (u.exit.kind !== 'running') continue;
    target ??= u;
    if ((u.sigmask & bit(info.signo)) === 0n) {
      target = u;
      break;
    }
  }
  if (target !== undefined) sendSignal(target, info, fromOutside);
}

/**
 * A synchronous fault: delivered to its handler if one is installed and the signal is not
 * blocked; otherwise the task dies with it (Linux's force_sig_fault).
 */
export function forceFault(t: Task, info: SigInfo): void {
  const act = t.sigactions.get(info.signo);
  const blocked = (t.sigmask & bit(info.signo)) !== 0n;
  if (act === undefined || act.handler === SIG_DFL || act.handler === SIG_IGN || blocked) {
    t.kernel.log.debug(
      `task ${t.tid}: fault signal ${info.signo} with no handler to take it: the task dies`,
    );
    t.exit = { kind: 'killed', signo: info.signo, core: false };
    return;
  }
  t.pendingSignals |= bit(info.signo);
  t.pendingInfo.set(info.signo, info);
}

export function siginfoBytes(info: SigInfo): Uint8Array {
  const b = new Uint8Array(128);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, info.signo, true);
  dv.setInt32(8, info.code, true);
  if (info.errno !== undefined) dv.setInt32(4, info.errno, true);
  if (info.syscall !== undefined) {
    dv.setInt32(24, info.syscall, true);
    dv.setUint32(28, info.arch ?? 0, true);
  }
  if (info.timer !== undefined) {
    dv.setInt32(16, info.timer.id, true);
    dv.setInt32(20, info.overrun ?? 0, true);
    dv.setBigUint64(24, info.timer.value, true);
  } else if (info.addr !== undefined) dv.setBigUint64(16, info.addr, true);
  else {
    dv.setInt32(16, info.pid ?? 0, true);
    dv.setUint32(20, info.uid ?? 0, true);
    if (info.status !== undefined) dv.setInt32(24, info.status, true);
  }
  return b;
}

const UC_SIZE = 304;
const FRAME_UC = 8;
const FRAME_INFO = FRAME_UC + UC_SIZE;
const FRAME_SIZE = FRAME_INFO + 128;
/** The XSAVE header's xstate_bv (which components the image holds). */
const XSTATE_BV = 512;
/** The smallest and largest XSAVE image a frame may name (legacy area + header; a bound). */
const XSTATE_MIN = 576;
const XSTATE_MAX = 16384;
const UC_FP_XSTATE = 1n;
const REDZONE = 128n;
const UC_SIGCONTEXT_SS = 2n;
const UC_STRICT_RESTORE_SS = 4n;
/** The flags a sigreturn may change (Linux's FIX_EFLAGS). */
const FIX_EFLAGS = 0x00254dd5n;
const EFLAGS_DF_TF = (1n << 10n) | (1n << 8n);

function onAltStack(t: Task, sp: bigint): boolean {
  const a = t.altStack;
  return (a.flags & SS_DISABLE) === 0 && a.size > 0n && sp > a.sp && sp <= a.sp + a.size;
}

/** The alternate stack as sigaltstack reports it (SS_ONSTACK while on it). */
export function altStackFlags(t: Task): number {
  if ((t.altStack.flags & SS_DISABLE) !== 0) return SS_DISABLE;
  return onAltStack(t, t.regs[Reg.rsp] ?? 0n) ? SS_ONSTACK : t.altStack.flags;
}

/** Builds the frame and enters the handler; false if the frame could not be written. */
function enterHandler(t: Task, sig: number, info: SigInfo): boolean {
  const act = t.sigactions.get(sig);
  if (act === undefined) return false;
  const regs = t.regs;
  const rsp = regs[Reg.rsp] ?? 0n;
  let sp: bigint;
  if (
    (act.flags & SA_ONSTACK) !== 0n &&
    (t.altStack.flags & SS_DISABLE) === 0 &&
    !onAltStack(t, rsp)
  ) {
    sp = t.altStack.sp + t.altStack.size;
  } else sp = rsp - REDZONE;
  let fp = t.thread.getFpState();
  if (typeof fp === 'number') {
    t.kernel.log.warn(`signal frame: cannot read the FP state: ${fp}`);
    return false;
  }
  // An XSAVE image goes in as Linux writes it: software bytes saying so, FP_XSTATE_MAGIC2 after.
  const xstate = fp.length > FP_LEGACY_SIZE;
  if (xstate) {
    const img = new Uint8Array(fp.length + 4);
    img.set(fp);
    const v = new DataView(img.buffer);
    // ptrace's image holds XCR0 (the enabled components) where the software bytes go.
    const xcr0 = v.getBigUint64(FP_SW_BYTES, true);
    img.fill(0, FP_SW_BYTES, FP_LEGACY_SIZE);
    v.setUint32(FP_SW_BYTES, FP_XSTATE_MAGIC1, true);
    v.setUint32(FP_SW_BYTES + 4, fp.length + 4, true);
    v.setBigUint64(FP_SW_BYTES + 8, xcr0, true);
    v.setUint32(FP_SW_BYTES + 16, fp.length, true);
    v.setUint32(fp.length, FP_XSTATE_MAGIC2, true);
    fp = img;
  }
  sp = (sp - BigInt(fp.length)) & ~63n;
  const fpAddr = sp;
  sp = ((sp - BigInt(FRAME_SIZE)) & ~15n) - 8n;
  const frame = new Uint8Array(FRAME_SIZE);
  const dv = new DataView(frame.buffer);
  dv.setBigUint64(0, act.restorer, true);
  dv.setBigUint64(
    FRAME_UC,
    UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (xstate ? UC_FP_XSTATE : 0n),
    true,
  );
  dv.setBigUint64(FRAME_UC + 16, t.altStack.sp, true);
  dv.setInt32(FRAME_UC + 24, altStackFlags(t), true);
  dv.setBigUint64(FRAME_UC + 32, t.altStack.size, true);
  const mc = FRAME_UC + UC_MCONTEXT;
  MCONTEXT_GREGS.forEach((r, i) => dv.setBigUint64(mc + i * 8, regs[r] ?? 0n, true));
  dv.setBigUint64(mc + 136, regs[Reg.eflags] ?? 0n, true);
  dv.setUint16(mc + 144, Number(regs[Reg.cs] ?? 0n), true);
  dv.setUint16(mc + 150, Number(regs[Reg.ss] ?? 0n), true);
  dv.setBigUint64(mc + 160, info.signo === SIGSEGV ? 14n : 0n, true); // trapno
  const savedMask = t.savedMaskAfterSuspend ?? t.sigmask;
  t.savedMaskAfterSuspend = undefined;
  dv.setBigUint64(mc + 168, savedMask, true); // oldmask
  dv.setBigUint64(mc + 176, info.signo === SIGSEGV ? (info.addr ?? 0n) : 0n, true); // cr2
  dv.setBigUint64(mc + 184, fpAddr, true);
  dv.setBigUint64(FRAME_UC + UC_SIGMASK, savedMask, true);
  frame.set(siginfoBytes(info), FRAME_INFO);
  if (t.mm.copyOut(fpAddr, fp) < 0 || t.mm.copyOut(sp, frame) < 0) return false;

  regs[Reg.rsp] = sp;
  regs[Reg.rip] = act.handler;
  regs[Reg.rdi] = BigInt(sig);
  regs[Reg.rsi] = (act.flags & SA_SIGINFO) !== 0n ? sp + BigInt(FRAME_INFO) : 0n;
  regs[Reg.rdx] = (act.flags & SA_SIGINFO) !== 0n ? sp + BigInt(FRAME_UC) : 0n;
  regs[Reg.rax] = 0n;
  regs[Reg.eflags] = (regs[Reg.eflags] ?? 0n) & ~EFLAGS_DF_TF;
  t.sigmask |= act.mask;
  if ((act.flags & SA_NODEFER) === 0n) t.sigmask |= bit(sig);
  t.sigmask &= ~UNBLOCKABLE;
  if ((act.flags & SA_RESETHAND) !== 0n) t.sigactions.delete(sig);
  return true;
}

/** Delivers every pending, unblocked signal (lowest number first), as Linux does at return to user. */
export function deliverPending(t: Task): void {
  deliverLoop(t);
  if (t.savedMaskAfterSuspend !== undefined) {
    t.sigmask = t.savedMaskAfterSuspend;
    t.savedMaskAfterSuspend = undefined;
  }
}

function deliverLoop(t: Task): void {
  while (t.exit.kind === 'running') {
    const ready = t.pendingSignals & ~t.sigmask;
    if (ready === 0n) return;
    let sig = 1;
    while (((ready >> BigInt(sig - 1)) & 1n) === 0n) sig++;
    t.pendingSignals &= ~bit(sig);
    const info = t.pendingInfo.get(sig) ?? { signo: sig, code: SI_KERNEL };
    t.pendingInfo.delete(sig);
    settleTimerSignal(info);
    const handler = t.sigactions.get(sig)?.handler ?? SIG_DFL;
    if (sig === SIGKILL || handler === SIG_DFL) {
      if (DEFAULT_IGNORE.has(sig)) continue;
      // The PID namespace's init discards a signal whose action is the default (one queued
      // while blocked and unblocked since); SIGKILL only came from outside.
      if (sig !== SIGKILL && t.tgid === 1) continue;
      if (DEFAULT_STOP.has(sig) && sig !== SIGSTOP) {
        t.kernel.log.warn(`signal ${sig}: job-control stop is not implemented; ignored`);
        continue;
      }
      t.kernel.log.debug(`task ${t.tid}: signal ${sig}: default action ends the task`);
      t.exit = { kind: 'killed', signo: sig, core: false };
      return;
    }
    if (handler === SIG_IGN) continue;
    if (!enterHandler(t, sig, info)) {
      t.kernel.log.debug(`task ${t.tid}: cannot build the frame for signal ${sig}: SIGSEGV`);
      t.exit = { kind: 'killed', signo: SIGSEGV, core: false };
      return;
    }
  }
}

/**
 * The FP state a frame holds, as Linux's sigreturn reads it: the whole XSAVE image when the
 * software bytes and FP_XSTATE_MAGIC2 say there is one (components outside their xfeatures
 * taking their initial state), else the fxsave image alone. -EFAULT if unreadable.
 */
function frameFpState(t: Task, fpAddr: bigint): Uint8Array | number {
  const legacy = t.mm.copyIn(fpAddr, FP_LEGACY_SIZE);
  if (typeof legacy === 'number') return legacy;
  const v = new DataView(legacy.buffer, legacy.byteOffset, legacy.byteLength);
  const size = v.getUint32(FP_SW_BYTES + 16, true);
  const valid =
    v.getUint32(FP_SW_BYTES, true) === FP_XSTATE_MAGIC1 &&
    size >= XSTATE_MIN &&
    size <= XSTATE_MAX &&
    size <= v.getUint32(FP_SW_BYTES + 4, true);
  if (!valid) return legacy;
  const img = t.mm.copyIn(fpAddr, size + 4);
  if (typeof img === 'number') return img;
  const iv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  if (iv.getUint32(size, true) !== FP_XSTATE_MAGIC2) return legacy;
  const xfeatures = iv.getBigUint64(FP_SW_BYTES + 8, true);
  iv.setBigUint64(XSTATE_BV, iv.getBigUint64(XSTATE_BV, true) & xfeatures, true);
  return img.subarray(0, size);
}

/** Implements the core of rt_sigreturn(2): restores the frame at rsp; false if unreadable. */
export function sigreturn(t: Task): boolean {
  const regs = t.regs;
  const uc = regs[Reg.rsp] ?? 0n; // the handler's `ret` popped pretcode
  const b = t.mm.copyIn(uc, UC_SIZE);
  if (typeof b === 'number') return false;
  const dv = new DataView(b.buffer);
  const mc = UC_MCONTEXT;
  MCONTEXT_GREGS.forEach((r, i) => {
    regs[r] = dv.getBigUint64(mc + i * 8, true);
  });
  const eflags = dv.getBigUint64(mc + 136, true);
  regs[Reg.eflags] = ((regs[Reg.eflags] ?? 0n) & ~FIX_EFLAGS) | (eflags & FIX_EFLAGS);
  regs[Reg.orig_rax] = 0xffffffffffffffffn;
  const fpAddr = dv.getBigUint64(mc + 184, true);
  if (fpAddr !== 0n) {
    const fp = frameFpState(t, fpAddr);
    if (typeof fp === 'number') return false;
    if (t.thread.setFpState(fp) < 0) return false;
  }
  t.sigmask = dv.getBigUint64(UC_SIGMASK, true) & ~UNBLOCKABLE;
  return true;
}
