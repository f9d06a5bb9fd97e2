// The sandbox's kernel state: the platform and memory file, the PID namespace's allocator,
// the identity the sandbox shows (uname, hostname), virtual time's origin, and the log of
// unimplemented system calls (each reported once, by name). One Kernel per Sentry process.
//
// It must never reveal host identity: the release string is the Sentry's own, the hostname
// comes from the container's config, and PIDs are virtual.

import type { ProfileFilter } from './task_seccomp.js';
import { syscallName } from '../../abi/linux/syscall_names.js';
import type { Platform } from '../../platform/platform.js';
import type { MemoryFile } from '../mm/memory_file.js';
import type { Alarm, CpuITimers, ITimer } from './itimer.js';
import type { PosixTimer } from './posix_timers.js';
import type { Task } from './task.js';
import { hostEventfdDrain } from '../../host/io.js';
import { hostWatch } from './host_watch.js';
import type { Vdso } from './vdso.js';

/** The kernel release string the sandbox reports: the Sentry's own, never the host's. */
export const MOAT_RELEASE = '6.1.0-moat';
export const MOAT_VERSION = '#1 SMP PREEMPT_DYNAMIC moat';

export interface Interrupt {
  cell: Int32Array;
  index: number;
  pending(): boolean;
}

const fallbackCell = new Int32Array(new SharedArrayBuffer(4));

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
}

export class Kernel {
  hostname: string;
  domainname = '(none)';
  /** MemTotal as the sandbox reports it. */
  memTotalBytes = 0;
  /**
   * linux.resources.pids.limit: the most tasks (threads, zombies included until reaped, as
   * the pids cgroup counts them) the sandbox may hold; a clone past it fails with EAGAIN.
   */
  pidsLimit = Infinity;
  /**
   * linux.resources.memory.limit in bytes: application memory in use past it gets a process
   * OOM-killed (kernel/oom.ts).
   */
  memoryLimit = Infinity;
  /** The vDSO every process maps, and its clock (absent in unit tests). */
  vdso: Vdso | undefined;
  /** The container's seccomp profile (linux.seccomp), checked before every emulated call. */
  appSeccomp: ProfileFilter | undefined;
  private nextPid = 1;
  /** Every task of the sandbox by PID, zombies included until they are reaped. */
  readonly tasks = new Map<number, Task>();
  /** The PID namespace's init (PID 1): the sandbox ends when it does. */
  init: Task | null = null;
  /** The task whose system call is being emulated (procfs's /proc/self). */
  current: Task | null = null;
  /** Set when the init process (all its threads) has ended: the sandbox ends. */
  initEnded = false;
  /** POSIX timers (timer_create), by process leader, by id (kernel/posix_timers.ts). */
  readonly posixTimers = new Map<Task, Map<number, PosixTimer>>();
  /** Told whenever a signal is queued to any task (signalfd waiters). */
  readonly signalWatchers = new Set<() => void>();
  /** Armed CPU-time interval timers (ITIMER_VIRTUAL, ITIMER_PROF), by process leader. */
  /** Armed POSIX timers on CPU-time clocks (posix_timers.ts). */
  readonly cpuPosixTimers = new Set<PosixTimer>();
  readonly cpuTimers = new Map<Task, CpuITimers>();
  /** Pending kernel alarms (kernel/itimer.ts addAlarm): timerfd expiries. */
  readonly alarms = new Set<Alarm>();
  /** Armed ITIMER_REAL timers, by process leader (kernel/itimer.ts). */
  readonly itimers = new Map<Task, ITimer>();
  /** Tasks parked in FUTEX_WAIT, by futex key (the memory file offset of the word). */
  readonly futexWaiters = new Map<string, Task[]>();
  /** Tasks ready to run, in order. */
  readonly runQueue: Task[] = [];
  /** Tasks parked in a blocking system call (block.ts). */
  readonly blocked = new Set<Task>();
  /**
   * The parked tasks the scheduler retries: `polled` ones (their call registered no wake-up,
   * retried whenever anything may have changed), `ready` ones (woken: wakeTask), and `timed`
   * ones once `timedNext` (the earliest of their deadlines) has passed. A parked task in
   * none of them costs nothing until something wakes it.
   */
  readonly polled = new Set<Task>();
  readonly ready = new Set<Task>();
  readonly timed = new Set<Task>();
  timedNext = -1n;

  /** Parks `t` (its call answered BLOCKED). */
  park(t: Task): void {
    this.blocked.add(t);
    const r = t.restart;
    if (r?.evented !== true) {
      this.polled.add(t);
      return;
    }
    if (r.deadline >= 0n) {
      this.timed.add(t);
      if (this.timedNext < 0n || r.deadline < this.timedNext) this.timedNext = r.deadline;
    }
  }

  /** `t` is no longer parked. */
  unpark(t: Task): void {
    const r = t.restart;
    if (r?.cleanup !== undefined) {
      const c = r.cleanup;
      r.cleanup = undefined;
      c();
    }
    this.blocked.delete(t);
    this.polled.delete(t);
    this.ready.delete(t);
    this.timed.delete(t);
  }

  /** The parked tasks worth a retry now. */
  retryCandidates(): Task[] {
    const out = new Set<Task>(this.polled);
    for (const t of this.ready) out.add(t);
    this.ready.clear();
    if (this.timedNext >= 0n && this.monotonicNs() >= this.timedNext) {
      let next = -1n;
      for (const t of this.timed) {
        out.add(t);
        const d = t.restart?.deadline ?? -1n;
        if (d >= 0n && (next < 0n || d < next)) next = d;
      }
      this.timedNext = next;
    }
    return [...out];
  }
  /** Something a parked task may wait for changed (a pipe, an exit, a signal): retry them. */
  wake = false;
  /**
   * The control worker's wake-up eventfd (host fd), written whenever it wakes the main thread:
   * the idle wait polls it beside watched host files. -1 without one (unit tests).
   */
  wakeFd = -1;
  /** Host ns when watched host files are next looked at while tasks run. */
  hostCheckDue = 0n;
  /** Called when a process was created or has ended (the control plane's ps list). */
  onTasksChanged: (() => void) | undefined;

  /** The PIDs of live (not zombie) processes, ascending. */
  livePids(): number[] {
    const out: number[] = [];
    for (const t of this.tasks.values()) {
      if (t !== t.leader || t.zombie) continue;
      for (const u of t.threads) {
        if (u.exit.kind === 'running') {
          out.push(t.tgid);
          break;
        }
      }
    }
    return out.sort((a, b) => a - b);
  }
  private readonly reported = new Set<number>();
  /** Wall-clock origin: realtime = bootRealtimeNs + (monotonic now - bootMonoNs). */
  /**
   * How many host CPUs the run loop may run application code on at once (its lanes): 1 runs
   * every task on the Sentry's own CPU.
   */
  lanes = 1;
  readonly bootRealtimeNs: bigint;
  readonly bootMonoNs: bigint;

  constructor(
    readonly platform: Platform,
    readonly memoryFile: MemoryFile,
    readonly log: Logger,
    hostname: string,
    readonly hwcap: bigint,
    readonly hwcap2: bigint,
  ) {
    this.hostname = hostname;
    this.bootMonoNs = process.hrtime.bigint();
    this.bootRealtimeNs = BigInt(Date.now()) * 1_000_000n;
  }

  /**
   * Where blocking waits park so that a signal can wake them, and how the kernel learns of
   * signals sent from outside (the control plane). Set by boot; absent in unit tests.
   */
  interrupt: Interrupt | undefined;

  /** True when a signal from outside is waiting to be applied. */
  hasPendingSignals(): boolean {
    return this.interrupt?.pending() ?? false;
  }

  /**
   * Blocks the Sentry for up to `ns` nanoseconds, or until a signal arrives from outside.
   * Returns the nanoseconds left (0 when the time ran out).
   */
  sleep(ns: bigint): bigint {
    const deadline = process.hrtime.bigint() + ns;
    const cell = this.interrupt?.cell ?? fallbackCell;
    const index = this.interrupt?.index ?? 0;
    for (;;) {
      const left = deadline - process.hrtime.bigint();
      if (left <= 0n) return 0n;
      if (this.hasPendingSignals() || this.wake) return left;
      if (this.wakeFd >= 0 && hostWatch.armed) {
        // Host files are watched: one poll(2) over them and the control worker's eventfd.
        const r = hostWatch.check(Number((left + 999_999n) / 1_000_000n), this.wakeFd);
        if (r === true) hostEventfdDrain(this.wakeFd);
        if (typeof r === 'number') {
          // Nothing to wait on that can fail: only a bad descriptor; do not spin on it.
          Atomics.wait(cell, index, 0, 1);
        }
        continue;
      }
      const ms = Number(left / 1_000_000n);
      if (ms > 0) Atomics.wait(cell, index, 0, ms);
      else if (left > 0n) {
        // Under a millisecond: spin out the remainder.
        while (process.hrtime.bigint() < deadline) {
          /* spin */
        }
      }
    }
  }

  allocPid(): number {
    return this.nextPid++;
  }

  monotonicNs(): bigint {
    return process.hrtime.bigint() - this.bootMonoNs;
  }

  realtimeNs(): bigint {
    return this.bootRealtimeNs + this.monotonicNs();
  }

  /** Logs an unimplemented system call once per sandbox, by name. */
  reportUnimplemented(nr: number): void {
    if (this.reported.has(nr)) return;
    this.reported.add(nr);
    this.log.warn(`unimplemented system call ${syscallName(nr)} (${nr}): returning ENOSYS`);
  }
}
