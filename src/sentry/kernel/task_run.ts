// The run loop: tasks run on lanes, one per host CPU the sandbox may use; the loop starts each
// lane's task through the platform and handles whichever traps first — emulates its system
// call (through the syscall table) or applies its fault — while the other lanes' application
// code keeps running. The kernel itself stays on one thread: one trap is handled at a time,
// so no kernel state needs a lock. A task leaves its lane when it exits, when its system call
// must wait (block.ts: parked, retried later), after a budget of system calls when others are
// waiting to run, when the control worker kicks it because its slice has lasted a tick or two
// (a loop without system calls), or when placement moves it (see pick and settle).
// Synchronous: no Promise, no await, no host call but the platform's start and wait on the
// hot path.
//
// It must never let a kernel-internal errno (ERESTARTSYS…, EBLOCKED) reach the application,
// and never resume the application after its exit was decided.

import type { Kernel } from './kernel.js';
import { Errno } from '../../abi/linux/errno.js';
import { Reg, type Trap } from '../../platform/platform.js';
import type { SyscallArgs, SyscallEntry } from '../syscalls/types.js';
import { BLOCKED, signalPending } from './block.js';
import { exitTask, killAllBut } from './process_tree.js';
import { fireCpuTimers, fireTimers, nextTimerDeadline, timersArmed } from './itimer.js';
import { fireCpuPosixTimers } from './posix_timers.js';
import { deliverPending, forceFault, sendSignal } from './signals.js';
import { hostWatch } from './host_watch.js';
import { seccompCheck } from './task_seccomp.js';
import { SIG_DFL, SIG_IGN, type ExitState, type Task } from './task.js';

/** SIGSEGV as the platform reports it. */
const SIGSEGV_HOST = 11;
const SIGBUS_HOST = 7;
const BUS_ADRERR = 2;
/** si_code of a fault raised by the kernel itself (#GP): never a page to back. */
const SI_KERNEL = 0x80;

export type SyscallTable = ReadonlyMap<number, SyscallEntry<Task>>;

const SIGKILL = 9;
const SIGPIPE = 13;
const SYS_rt_sigreturn = 15;
const SI_USER = 0;
/** System calls a task may make before it yields to others that are ready to run. */
const SLICE_SYSCALLS = 256;
/** How often waits on files that cannot notify are retried while everything is parked. */
const HOST_POLL_NS = 10_000_000n;
/** How often watched host files are looked at while tasks run (kernel/host_watch.ts). */
const HOST_CHECK_NS = 1_000_000n;
/**
 * The write-class calls whose EPIPE raises SIGPIPE here (write, pwrite64, writev, sendfile,
 * pwritev, pwritev2); sendto and sendmsg raise it themselves unless MSG_NOSIGNAL.
 */
const EPIPE_SIGNALS = new Set([1, 18, 20, 40, 296, 328]);

export interface RunHooks {
  /** Called when the stub was kicked: apply pending control requests (signals). */
  onKick(t: Task): void;
  /** Called when `t` starts a slice on lane `lane` (the control plane kicks that stub). */
  onSwitch?(t: Task, lane: number): void;
  /** Called when lane `lane` has no task any more. */
  onLaneIdle?(lane: number): void;
  /**
   * Called when the number of other tasks that may need the CPU (ready to run, or parked and
   * to be retried) may have changed.
   */
  onRunnable?(n: number): void;
  /** When set (--debug), time spent emulating each system call, by number: [calls, ns]. */
  profile?: Map<number, [number, bigint]>;
}

const KERNEL_INTERNAL_MIN = 512;
const KERNEL_INTERNAL_MAX = 529;
const SA_RESTART = 0x10000000n;
/** The length of the `syscall` instruction: a restarted call re-executes it. */
const SYSCALL_INSN = 2n;

export function dispatch(t: Task, table: SyscallTable, nr: number, args: SyscallArgs): bigint {
  if (t.seccomp.mode !== 0) {
    const r = seccompCheck(t, nr, args);
    if (r !== undefined) return r;
  }
  const entry = table.get(nr);
  if (entry === undefined) {
    t.kernel.reportUnimplemented(nr);
    return BigInt(-Errno.ENOSYS);
  }
  return BigInt(entry.handler(t, args));
}

/**
 * A call interrupted by a signal (-ERESTARTSYS and friends): restarted — the `syscall`
 * instruction runs again once the signal is dealt with — when no handler will run, or, for
 * ERESTARTSYS, when the handler has SA_RESTART; otherwise EINTR. As Linux's
 * handle_signal/arch_do_signal_or_restart.
 */
function restartOrEintr(t: Task, r: bigint, viaVsyscall: boolean): bigint {
  const code = Number(-r);
  if (viaVsyscall || (code !== Errno.ERESTARTSYS && code !== Errno.ERESTARTNOINTR)) {
    return BigInt(-Errno.EINTR);
  }
  const ready = t.pendingSignals & ~t.sigmask;
  let sig = 0;
  if (ready !== 0n) {
    sig = 1;
    while (((ready >> BigInt(sig - 1)) & 1n) === 0n) sig++;
  }
  const act = sig === 0 ? undefined : t.sigactions.get(sig);
  const handled = act !== undefined && act.handler !== SIG_DFL && act.handler !== SIG_IGN;
  const restart =
    code === Errno.ERESTARTNOINTR ||
    !handled ||
    (act !== undefined && (act.flags & SA_RESTART) !== 0n);
  if (!restart) return BigInt(-Errno.EINTR);
  const regs = t.regs;
  regs[Reg.rip] = (regs[Reg.rip] ?? 0n) - SYSCALL_INSN;
  return regs[Reg.orig_rax] ?? 0n;
}

/** Ends a system call with `r`: the result register, and SIGPIPE where Linux sends it. */
function complete(t: Task, nr: number, r: bigint): void {
  const c = t.restart?.cleanup;
  t.restart = undefined;
  c?.();
  if (r < 0n && -r >= BigInt(KERNEL_INTERNAL_MIN) && -r <= BigInt(KERNEL_INTERNAL_MAX)) {
    const rip = t.regs[Reg.rip] ?? 0n;
    const viaVsyscall = rip >= 0xffffffffff600000n && rip < 0xffffffffff601000n;
    r = restartOrEintr(t, r, viaVsyscall);
  }
  // rt_sigreturn restored every register itself, rax included.
  if (nr !== SYS_rt_sigreturn) t.regs[Reg.rax] = BigInt.asUintN(64, r);
  if (r === BigInt(-Errno.EPIPE) && EPIPE_SIGNALS.has(nr))
    sendSignal(t, { signo: SIGPIPE, code: SI_USER, pid: t.tgid, uid: t.creds.uid });
}

/** What becomes of a task after one trap: it runs on, parked, gave up its lane, or ended. */
type After = 'run' | 'blocked' | 'yield' | 'exited';

/**
 * A lane: one host CPU on which one task's application code runs at a time. Lane 0 is the
 * platform's first CPU, where traps cost least (ptrace: the Sentry's own CPU, a trap handled
 * across CPUs costing several times one on the same CPU; systrap: another CPU, where the
 * thread and the Sentry spin instead of sleeping); the others take only tasks that compute
 * for long between traps.
 */
interface Lane {
  index: number;
  cpu: number;
  task: Task | null;
  /** System calls left in the task's slice before it yields to waiting tasks. */
  budget: number;
  /** When the task was last started (monotonic ns, host clock). */
  ran: bigint;
  /** Asked to stop (its trap will say 'interrupted'); not asked again until collected. */
  interrupted: boolean;
}

/** The most lanes the run loop uses (the control state has a slot pair for each). */
export const MAX_LANES = 4;
/** A task whose runs between traps last this long on average goes to a lane of its own. */
const COMPUTE_NS = 1_000_000n;

function computeBound(t: Task): boolean {
  return t.avgRunNs >= COMPUTE_NS;
}

/**
 * Handles one trap of `t` (collected at `trapped`, host monotonic ns): emulates its system
 * call or applies its fault, and says what becomes of it.
 */
function handleTrap(
  t: Task,
  trap: Trap,
  lane: Lane,
  table: SyscallTable,
  hooks: RunHooks,
  trapped: bigint,
): After {
  const k = t.kernel;
  const regs = t.regs;
  const vdso = k.vdso;
  if (vdso !== undefined && trapped >= vdso.due) vdso.tick(trapped);
  if (k.cpuTimers.size > 0) fireCpuTimers(t);
  if (k.cpuPosixTimers.size > 0) fireCpuPosixTimers(t);
  if (trapped >= k.hostCheckDue && hostWatch.armed) {
    // Watched host files, at most once a millisecond while tasks run.
    k.hostCheckDue = trapped + HOST_CHECK_NS;
    hostWatch.check(0);
  }
  try {
    switch (trap.kind) {
      case 'syscall': {
        const ctx = t.thread;
        const o = regs[Reg.orig_rax] ?? 0n;
        const nr = o > 0xffffffffn ? -1 : Number(o);
        const args: SyscallArgs = [
          regs[Reg.rdi] ?? 0n,
          regs[Reg.rsi] ?? 0n,
          regs[Reg.rdx] ?? 0n,
          regs[Reg.r10] ?? 0n,
          regs[Reg.r8] ?? 0n,
          regs[Reg.r9] ?? 0n,
        ];
        let r: bigint;
        if (hooks.profile === undefined) r = dispatch(t, table, nr, args);
        else {
          const t0 = process.hrtime.bigint();
          r = dispatch(t, table, nr, args);
          const e = hooks.profile.get(nr) ?? [0, 0n];
          e[0]++;
          e[1] += process.hrtime.bigint() - t0;
          hooks.profile.set(nr, e);
        }
        if (r === BigInt(BLOCKED)) {
          if (t.exit.kind !== 'running') return 'exited';
          t.blocked = { nr, args };
          k.park(t);
          return 'blocked';
        }
        complete(t, nr, r);
        // execve: a new stub runs the new image.
        if (t.thread !== ctx) hooks.onSwitch?.(t, lane.index);
        if (k.hasPendingSignals()) hooks.onKick(t);
        const timers = timersArmed(k);
        if (timers) fireTimers(k);
        if (k.blocked.size > 0) {
          // What this call did may be what a parked task waits for.
          retryBlocked(table, k);
          k.current = t;
        }
        hooks.onRunnable?.(k.runQueue.length + k.blocked.size + (timers ? 1 : 0));
        if (--lane.budget <= 0) {
          if (k.runQueue.length > 0) return 'yield';
          lane.budget = SLICE_SYSCALLS;
        }
        break;
      }
      case 'interrupted':
        // The control plane's kick, the end of a time slice when others wait, or the run
        // loop's own request (a signal to deliver, a lane to free).
        hooks.onKick(t);
        fireTimers(k);
        if (hostWatch.armed) hostWatch.check(0);
        // The signal may be for a parked task (init, from the control plane): let it run.
        if (k.blocked.size > 0) {
          retryBlocked(table, k);
          k.current = t;
        }
        if (k.runQueue.length > 0) return 'yield';
        break;
      case 'signal':
        // A fault on memory the Sentry has not backed or mapped yet (first touch, fork's
        // copy-on-write, a clean shared page written): resolved, the access is retried.
        if (trap.signo === SIGSEGV_HOST && trap.code > 0 && trap.code < SI_KERNEL) {
          const f = t.mm.fault(trap.addr, trap.code);
          if (f === 0) break;
          if (f === SIGBUS_HOST) {
            forceFault(t, { signo: SIGBUS_HOST, code: BUS_ADRERR, addr: trap.addr });
            break;
          }
        }
        // A synchronous fault: to its handler, or the task dies with it.
        k.log.debug(
          `task ${t.tid}: signal ${trap.signo} code ${trap.code} addr 0x${trap.addr.toString(16)}`,
        );
        forceFault(t, { signo: trap.signo, code: trap.code, addr: trap.addr });
        break;
      case 'dead':
        t.exit = { kind: 'killed', signo: SIGKILL, core: false };
        k.log.warn(`task ${t.tid}: ${trap.reason}`);
        break;
    }
  } finally {
    // The Sentry's time on this trap is the task's system time.
    t.cpu.sysNs += process.hrtime.bigint() - trapped;
  }
  return t.exit.kind === 'running' ? 'run' : 'exited';
}

/**
 * Puts `t` on `lane` and starts its application code (signals first, as at every return to
 * user mode). A new slice when the lane had another task. Returns false when `t` ended
 * instead (a signal's default action): the caller ends it.
 */
function launch(t: Task, lane: Lane, hooks: RunHooks, newSlice: boolean): boolean {
  const k = t.kernel;
  k.current = t;
  if ((t.pendingSignals & ~t.sigmask) !== 0n) deliverPending(t);
  if (t.exit.kind !== 'running') return false;
  lane.task = t;
  lane.interrupted = false;
  t.lastCpu = lane.index;
  if (newSlice) {
    lane.budget = SLICE_SYSCALLS;
    hooks.onSwitch?.(t, lane.index);
  }
  lane.ran = process.hrtime.bigint();
  t.thread.start(t.regs, lane.cpu);
  return true;
}

/** Ends `t` unless its end was already carried out (by a thread that ended its group). */
function finish(t: Task): void {
  if (!t.ended) exitTask(t);
}

/** What `after` means for the lane and the task: run on, or leave the lane. */
function settle(t: Task, lane: Lane, after: After, hooks: RunHooks, lane0Free: boolean): void {
  const k = t.kernel;
  // A task whose affinity no longer allows this lane moves; so does one on another CPU that
  // traps often, once lane 0 is free (a trap there is several times cheaper).
  if (after === 'run' && (t.cpuMask & (1n << BigInt(lane.index))) === 0n) after = 'yield';
  const mayUseLane0 = (t.cpuMask & 1n) !== 0n;
  if (after === 'run' && lane.index > 0 && lane0Free && !computeBound(t) && mayUseLane0)
    after = 'yield';
  if (after === 'run' && launch(t, lane, hooks, false)) return;
  lane.task = null;
  hooks.onLaneIdle?.(lane.index);
  if (after === 'yield') k.runQueue.push(t);
  else if (after === 'run' || after === 'exited') finish(t);
}

/** A thread (not a process's first) that has not run yet: it may be a worker that computes. */
function freshThread(u: Task): boolean {
  return u !== u.leader && u.cpu.userNs === 0n;
}

/**
 * The next task for `lane` from the run queue, among those whose affinity allows the lane:
 * any for lane 0; for the others a compute-bound one first, else a thread that has not run
 * yet while lane 0 is busy (a new worker thread computes at once on a CPU of its own; one that
 * turns out to trap often goes back to lane 0 when that is free, see settle).
 */
function pick(k: Kernel, lane: Lane, lane0Busy: boolean): Task | undefined {
  const q = k.runQueue;
  const bit = 1n << BigInt(lane.index);
  const allowed = (u: Task): boolean => (u.cpuMask & bit) !== 0n;
  let i = q.findIndex(
    (u) => allowed(u) && (lane.index === 0 || computeBound(u) || (u.cpuMask & 1n) === 0n),
  );
  if (i < 0 && lane.index > 0 && lane0Busy) i = q.findIndex((u) => allowed(u) && freshThread(u));
  if (i < 0) return undefined;
  return q.splice(i, 1)[0];
}

/** Starts ready tasks on the free lanes. */
function fillLanes(k: Kernel, lanes: Lane[], hooks: RunHooks): void {
  for (const lane of lanes) {
    while (lane.task === null) {
      const t = pick(k, lane, lanes[0]?.task !== null);
      if (t === undefined) break;
      if (t.exit.kind !== 'running' || !launch(t, lane, hooks, true)) {
        lane.task = null;
        finish(t);
        if (k.initEnded) return;
      }
    }
  }
}

/**
 * After a trap: a running task that must stop is asked to (a signal to deliver, an end decided
 * by another task, a compute-bound task holding lane 0 while a free lane could take
 * it and another task waits); one whose host side is gone leaves its lane.
 */
function checkLanes(k: Kernel, lanes: Lane[], hooks: RunHooks): void {
  const spare = lanes.some((l) => l.index > 0 && l.task === null);
  for (const lane of lanes) {
    const u = lane.task;
    if (u === null) continue;
    if (!u.thread.alive) {
      lane.task = null;
      hooks.onLaneIdle?.(lane.index);
      if (u.exit.kind === 'running') u.exit = { kind: 'killed', signo: SIGKILL, core: false };
      finish(u);
      continue;
    }
    if (lane.interrupted) continue;
    const must =
      u.ended ||
      u.exit.kind !== 'running' ||
      (u.pendingSignals & ~u.sigmask) !== 0n ||
      (u.cpuMask & (1n << BigInt(lane.index))) === 0n ||
      (lane.index === 0 && spare && computeBound(u) && k.runQueue.length > 0);
    if (must) {
      lane.interrupted = true;
      u.thread.interrupt();
    }
  }
}

/** Records how long `t` ran before this trap (for placement). */
function accountRun(t: Task, lane: Lane, trapped: bigint): void {
  const run = trapped - lane.ran;
  t.cpu.userNs += run;
  t.avgRunNs += (run - t.avgRunNs) / 4n;
}

/**
 * Tries the parked calls that may complete now (kernel.retryCandidates: polled ones, woken
 * ones, timed-out ones); those that complete go back to the run queue.
 */
function retryBlocked(table: SyscallTable, k: Kernel): void {
  for (const u of k.retryCandidates()) {
    const b = u.blocked;
    if (b === undefined) {
      k.unpark(u);
      continue;
    }
    k.current = u;
    let r = dispatch(u, table, b.nr, b.args);
    if (r === BigInt(BLOCKED)) {
      if (u.exit.kind !== 'running') {
        k.unpark(u);
        u.blocked = undefined;
        k.runQueue.push(u);
        continue;
      }
      // A handler that does not look at signals itself still ends with one: restarted
      // after it when no handler runs or the handler asked for SA_RESTART (ERESTARTSYS).
      if (!signalPending(u)) {
        // Still parked: its deadline may have been set on this try.
        if (u.restart?.evented === true && u.restart.deadline >= 0n && !k.timed.has(u)) {
          k.unpark(u);
          k.park(u);
        }
        continue;
      }
      r = BigInt(-Errno.ERESTARTSYS);
    }
    k.unpark(u);
    u.blocked = undefined;
    complete(u, b.nr, r);
    k.runQueue.push(u);
  }
}

/** The earliest deadline among parked tasks (monotonic ns), or -1n. */
function nextDeadline(tasks: Iterable<Task>): { at: bigint; pollsHost: boolean } {
  let at = -1n;
  let pollsHost = false;
  for (const u of tasks) {
    const r = u.restart;
    if (r === undefined) continue;
    if (r.pollsHost === true) pollsHost = true;
    if (r.deadline >= 0n && (at < 0n || r.deadline < at)) at = r.deadline;
  }
  return { at, pollsHost };
}

/**
 * Runs the sandbox's tasks, starting from `init`, until init has exited; then kills the rest.
 * Tasks run on lanes, one per host CPU the sandbox may use (platform.cpus): the application
 * code of several tasks runs at once, and the Sentry's one thread handles their traps one at
 * a time as they come (platform.waitAny). Returns how init ended.
 */
export function runTask(init: Task, table: SyscallTable, hooks: RunHooks): ExitState {
  const k = init.kernel;
  k.init ??= init;
  k.tasks.set(init.tid, init);
  if (!k.runQueue.includes(init) && !k.blocked.has(init)) k.runQueue.push(init);
  const cpus = k.platform.cpus.slice(0, Math.max(1, Math.min(MAX_LANES, k.lanes)));
  const lanes: Lane[] = cpus.map((cpu, index) => ({
    index,
    cpu,
    task: null,
    budget: SLICE_SYSCALLS,
    ran: 0n,
    interrupted: false,
  }));
  for (;;) {
    if (k.initEnded) break;
    if (k.blocked.size > 0 && k.wake) {
      k.wake = false;
      retryBlocked(table, k);
    }
    fireTimers(k);
    if (k.blocked.size > 0 && k.wake) {
      k.wake = false;
      retryBlocked(table, k);
    }
    fillLanes(k, lanes, hooks);
    if (k.initEnded) break;
    hooks.onRunnable?.(k.runQueue.length + k.blocked.size + (timersArmed(k) ? 1 : 0));
    if (lanes.some((l) => l.task !== null)) {
      const ev = k.platform.waitAny();
      if (ev === undefined) {
        // Nothing is running after all (a lane's context went away unseen): let the lanes
        // look at their tasks again.
        for (const l of lanes) l.interrupted = false;
        checkLanes(k, lanes, hooks);
        for (const l of lanes) {
          const u = l.task;
          if (u === null) continue;
          l.task = null;
          hooks.onLaneIdle?.(l.index);
          k.runQueue.push(u);
        }
        continue;
      }
      const lane = lanes.find((l) => l.task !== null && l.task.thread === ev.ctx);
      if (lane === undefined) continue; // a context whose task already left its lane
      const t = lane.task;
      if (t === null) continue;
      const trapped = process.hrtime.bigint();
      accountRun(t, lane, trapped);
      k.current = t;
      const after =
        t.ended || t.exit.kind !== 'running'
          ? 'exited'
          : handleTrap(t, ev.trap, lane, table, hooks, trapped);
      settle(t, lane, after, hooks, lanes[0]?.task === null);
      if (!k.initEnded) checkLanes(k, lanes, hooks);
      continue;
    }
    if (k.runQueue.length > 0) continue;
    if (k.blocked.size === 0) break;
    // Everything is parked: sleep until the next deadline, a signal from outside, or the
    // next look at host files.
    const next = nextDeadline(k.blocked);
    const pollsHost = next.pollsHost;
    const timerAt = nextTimerDeadline(k);
    const at = timerAt >= 0n && (next.at < 0n || timerAt < next.at) ? timerAt : next.at;
    const now = k.monotonicNs();
    let ns = at < 0n ? 1_000_000_000n : at - now;
    if (pollsHost && ns > HOST_POLL_NS) ns = HOST_POLL_NS;
    if (ns > 0n) k.sleep(ns);
    if (k.hasPendingSignals()) hooks.onKick(init);
    fireTimers(k);
    k.wake = false;
    retryBlocked(table, k);
  }
  killAllBut(init);
  return init.exit;
}
