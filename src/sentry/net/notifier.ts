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
