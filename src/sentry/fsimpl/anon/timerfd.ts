// timerfd: a timer as a file. The timer keeps its next expiry on its own clock (realtime,
// monotonic or boottime, as the Sentry keeps them) and an interval; expirations are counted
// lazily, whenever the file is looked at, so a timer nobody waits for costs nothing. While
// someone waits (a blocking read, poll, epoll), a kernel alarm at the next expiry tells the
// waiters. read(2) takes the count (8 bytes) and waits while it is 0.
//
// The Sentry's clocks are never set (clock_settime is refused), so TFD_TIMER_CANCEL_ON_SET
// is accepted and never fires. It must never throw, and never leave an alarm behind after
// the last close.

import { Errno } from '../../../abi/linux/errno.js';
import { POLLIN, POLLRDNORM } from '../../../abi/linux/file.js';
import type { FileImpl } from '../../vfs/inode.js';

/** What the timer needs of the kernel: its clock, and alarms on the monotonic clock. */
export interface TimerClock {
  /** The timer's clock now (ns). */
  now(): bigint;
  /** Monotonic ns for a time `at` of the timer's clock. */
  toMonotonic(at: bigint): bigint;
  /** Calls `fire` at monotonic `at`; the canceller. */
  alarm(at: bigint, fire: () => void): () => void;
}

export class TimerFd {
  /** Next expiry on the timer's clock, or 0n when disarmed. */
  private next = 0n;
  private interval = 0n;
  private ticks = 0n;
  private readonly waiters = new Set<() => void>();
  private cancelAlarm: (() => void) | undefined;

  constructor(private readonly clock: TimerClock) {}

  /** Counts the expirations up to now. */
  private update(): void {
    if (this.next === 0n) return;
    const now = this.clock.now();
    if (now < this.next) return;
    if (this.interval > 0n) {
      const n = 1n + (now - this.next) / this.interval;
      this.ticks += n;
      this.next += n * this.interval;
    } else {
      this.ticks += 1n;
      this.next = 0n;
    }
  }

  /** An alarm at the next expiry while anyone waits. */
  private schedule(): void {
    this.cancelAlarm?.();
    this.cancelAlarm = undefined;
    if (this.next === 0n || this.waiters.size === 0) return;
    this.cancelAlarm = this.clock.alarm(this.clock.toMonotonic(this.next), () => {
      this.cancelAlarm = undefined;
      this.update();
      this.notify();
      this.schedule();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  subscribe(cb: () => void): () => void {
    this.waiters.add(cb);
    if (this.cancelAlarm === undefined) this.schedule();
    return () => {
      this.waiters.delete(cb);
      if (this.waiters.size === 0) {
        this.cancelAlarm?.();
        this.cancelAlarm = undefined;
      }
    };
  }

  /** The setting as timerfd_gettime reports it: [ns to the next expiry (0: disarmed), interval]. */
  get(): [bigint, bigint] {
    this.update();
    if (this.next === 0n) return [0n, this.interval];
    const left = this.next - this.clock.now();
    return [left > 0n ? left : 1n, this.interval];
  }

  /**
   * Arms the timer at `value` (absolute on its clock when `abs`, else from now; 0: disarm),
   * repeating every `interval`; the expiry count restarts.
   */
  set(value: bigint, interval: bigint, abs: boolean): void {
    this.ticks = 0n;
    this.interval = interval;
    if (value === 0n) this.next = 0n;
    else {
      const at = abs ? value : this.clock.now() + value;
      // An absolute time already past expires at once (next is never 0 when armed).
      this.next = at > 0n ? at : 1n;
    }
    this.schedule();
    this.notify();
  }

  read(dst: Uint8Array): number {
    if (dst.length < 8) return -Errno.EINVAL;
    this.update();
    if (this.ticks === 0n) return -Errno.EAGAIN;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(
      0,
      BigInt.asUintN(64, this.ticks),
      true,
    );
    this.ticks = 0n;
    return 8;
  }

  readiness(): number {
    this.update();
    return this.ticks > 0n ? POLLIN | POLLRDNORM : 0;
  }

  release(): void {
    this.cancelAlarm?.();
    this.cancelAlarm = undefined;
    this.waiters.clear();
    this.next = 0n;
  }
}

const timers = new WeakMap<FileImpl, TimerFd>();

export function timerfdImpl(tm: TimerFd): FileImpl {
  const impl: FileImpl = {
    seekable: false,
    read: (dst) => tm.read(dst),
    write: () => -Errno.EINVAL,
    readiness: () => tm.readiness(),
    subscribe: (cb) => tm.subscribe(cb),
    release: () => tm.release(),
  };
  timers.set(impl, tm);
  return impl;
}

/** The timer behind a file implementation, or null when it is not a timerfd. */
export function timerOf(impl: FileImpl | null): TimerFd | null {
  return impl === null ? null : (timers.get(impl) ?? null);
}
