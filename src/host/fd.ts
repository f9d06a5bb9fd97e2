// An owned host file descriptor: the only way a bare fd number travels outside src/host/.
// It must never be closed twice; close() is idempotent and the number is invalid afterwards.

import { check, libc } from './libc.js';

// SAFETY: close(2) takes an int and touches no memory of ours.
const close_ = libc.func('int close(int)');

export class HostFd {
  private n: number;
  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw new Error(`host: invalid fd ${fd}`);
    this.n = fd;
  }
  /** The descriptor number; throws after close(). */
  get fd(): number {
    if (this.n < 0) throw new Error('host: use of a closed fd');
    return this.n;
  }
  get closed(): boolean {
    return this.n < 0;
  }
  close(): number {
    if (this.n < 0) return 0;
    const r = check(close_(this.n) as number);
    this.n = -1;
    return r;
  }
  /** Gives up ownership without closing (the fd now belongs to the caller). */
  release(): number {
    const n = this.fd;
    this.n = -1;
    return n;
  }
}
