// What every socket endpoint shares: waiters called back when its readiness may have changed
// (poll, epoll and parked calls subscribe), a pending error reported once (sk_err), and the
// POLL* bits. No dependency on the rest of the Sentry; never throws.

export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLRDNORM = 0x40;
export const POLLWRNORM = 0x100;
export const POLLWRBAND = 0x200;
export const POLLRDHUP = 0x2000;

export class Notifier {
  /** A pending error (sk_err, positive errno), reported once. */
  error = 0;
  private readonly waiters = new Set<() => void>();

  subscribe(cb: () => void): () => void {
    this.waiters.add(cb);
    return () => this.waiters.delete(cb);
  }

  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Takes the pending error (sock_error): its negative errno, or 0. */
  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e === 0 ? 0 : -e;
  }
}

/**
 * Subscribes `cb` to an endpoint and to its sandbox's socket memory (a writer the budget held
 * up wakes when room returns); returns the unsubscriber of both.
 */
export function subscribeWithMemory(e: Notifier, mem: Notifier | null, cb: () => void): () => void {
  const off = e.subscribe(cb);
  const offMem = mem?.subscribe(cb);
  return () => {
    off();
    offMem?.();
  };
}

/** What all socket queues of one sandbox may hold (Linux bounds them with tcp_mem/wmem). */
export const SOCKET_MEMORY_LIMIT = 256 << 20;

/**
 * The bytes held in one sandbox's socket queues, against a budget: a send that would pass it
 * is refused (the caller waits, or answers EAGAIN), so no program can grow the Sentry's
 * memory without bound through sockets. Waiters hear when room comes back.
 */
export class SocketMemory extends Notifier {
  used = 0;
  constructor(readonly limit = SOCKET_MEMORY_LIMIT) {
    super();
  }

  /** Takes `n` bytes of the budget; false (nothing taken) when they do not fit. */
  charge(n: number): boolean {
    if (n > 0 && this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  /** Takes `n` bytes whatever the budget (data already admitted, moving between queues). */
  force(n: number): void {
    this.used += n;
  }

  release(n: number): void {
    const was = this.used > this.limit - (1 << 20);
    this.used = Math.max(0, this.used - n);
    if (was) this.notify();
  }

  /** Bytes still free in the budget. */
  room(): number {
    return Math.max(0, this.limit - this.used);
  }

  /** Whether a send of `n` more bytes would fit. */
  fits(n: number): boolean {
    return this.used + n <= this.limit;
  }
}
