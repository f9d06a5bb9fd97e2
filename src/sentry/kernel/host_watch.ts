// Host file descriptors as wake-up sources: the caller's stdio (and later host sockets) change
// readiness behind the Sentry's back, so a task waiting on one registers here, and the kernel
// asks the host kernel with one poll(2) over every armed descriptor — blocking, together with
// the control worker's wake-up eventfd, when every task is parked; without waiting, at most
// once a millisecond, while tasks run.
//
// A registration fires once, when its descriptor is ready for one of its events (or hangs up
// or fails); it is armed again when someone looks at the file's readiness (a poll, an epoll
// scan, a retried read), so a descriptor that stays ready but that nobody reads (a full
// stdout, an unread stdin in an epoll set) never keeps the Sentry awake.
//
// It must never block except in `wait`, and never call back into a registration that was
// dropped.

import { hostPollMany } from '../../host/io.js';

interface Watch {
  fd: number;
  events: number;
  armed: boolean;
  cb: () => void;
}

/** POLLERR | POLLHUP | POLLNVAL: always reported, never asked for. */
const ALWAYS = 0x8 | 0x10 | 0x20;

export class HostWatch {
  private readonly watches = new Set<Watch>();
  private armedCount = 0;
  private buf = new Int32Array(16);

  /** Calls `cb` once when `fd` is ready for one of `events` or hangs up; the unsubscriber. */
  subscribe(fd: number, events: number, cb: () => void): () => void {
    const w: Watch = { fd, events, armed: true, cb };
    this.watches.add(w);
    this.armedCount++;
    return () => {
      if (!this.watches.delete(w)) return;
      if (w.armed) this.armedCount--;
    };
  }

  /** Someone looked at `fd`'s readiness: its registrations may fire again. */
  rearm(fd: number): void {
    for (const w of this.watches) {
      if (w.fd === fd && !w.armed) {
        w.armed = true;
        this.armedCount++;
      }
    }
  }

  /** True when some registration waits for its descriptor. */
  get armed(): boolean {
    return this.armedCount > 0;
  }

  /**
   * One poll(2) over the armed descriptors (and `wakeFd`, when given), waiting up to
   * `timeoutMs` (0: not at all). Ready registrations fire. Returns whether `wakeFd` was ready
   * (its counter is not drained here), or -errno.
   */
  check(timeoutMs: number, wakeFd = -1): boolean | number {
    const list: Watch[] = [];
    for (const w of this.watches) if (w.armed) list.push(w);
    const n = list.length + (wakeFd >= 0 ? 1 : 0);
    if (n === 0) return false;
    if (this.buf.length < n * 2) this.buf = new Int32Array(n * 4);
    const b = this.buf;
    list.forEach((w, i) => {
      b[i * 2] = w.fd;
      b[i * 2 + 1] = w.events & 0xffff;
    });
    if (wakeFd >= 0) {
      b[list.length * 2] = wakeFd;
      b[list.length * 2 + 1] = 0x1;
    }
    // poll(2) takes an int: a far deadline (a timer a century out) waits as long as it can.
    const ms = Math.max(0, Math.min(Math.floor(timeoutMs), 0x7fffffff));
    const r = hostPollMany(b, n, ms);
    if (r < 0) return r;
    if (r === 0) return false;
    for (let i = 0; i < list.length; i++) {
      const revents = ((b[i * 2 + 1] ?? 0) >>> 16) & 0xffff;
      const w = list[i];
      if (w === undefined || revents === 0 || (revents & (w.events | ALWAYS)) === 0) continue;
      if (!this.watches.has(w) || !w.armed) continue;
      w.armed = false;
      this.armedCount--;
      w.cb();
    }
    return wakeFd >= 0 && (((b[list.length * 2 + 1] ?? 0) >>> 16) & 0x1) !== 0;
  }
}

/** The Sentry's one watch (one kernel per Sentry process). */
export const hostWatch = new HostWatch();
