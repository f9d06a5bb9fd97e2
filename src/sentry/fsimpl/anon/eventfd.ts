// eventfd: a 64-bit counter as a file. read takes the counter (or 1 of it, EFD_SEMAPHORE) and
// waits while it is 0; write adds to it and waits while the sum would pass 2^64 - 2. Readiness
// and change notification let poll, epoll and blocking reads wait on it. Never throws.

import { Errno } from '../../../abi/linux/errno.js';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../../abi/linux/file.js';
import type { FileImpl } from '../../vfs/inode.js';

const MAX = 0xfffffffffffffffen;

export class EventCounter {
  value: bigint;
  private readonly waiters = new Set<() => void>();

  constructor(
    initial: bigint,
    readonly semaphore: boolean,
  ) {
    this.value = initial;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  subscribe(cb: () => void): () => void {
    this.waiters.add(cb);
    return () => this.waiters.delete(cb);
  }

  read(dst: Uint8Array): number {
    if (dst.length < 8) return -Errno.EINVAL;
    if (this.value === 0n) return -Errno.EAGAIN;
    const v = this.semaphore ? 1n : this.value;
    this.value -= v;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, v, true);
    this.notify();
    return 8;
  }

  write(src: Uint8Array): number {
    if (src.length < 8) return -Errno.EINVAL;
    const v = new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true);
    if (v === 0xffffffffffffffffn) return -Errno.EINVAL;
    if (MAX - this.value < v) return -Errno.EAGAIN;
    this.value += v;
    this.notify();
    return 8;
  }

  readiness(): number {
    return (
      (this.value > 0n ? POLLIN | POLLRDNORM : 0) | (this.value < MAX ? POLLOUT | POLLWRNORM : 0)
    );
  }
}

export function eventfdImpl(c: EventCounter): FileImpl {
  return {
    seekable: false,
    read: (dst) => c.read(dst),
    write: (src) => c.write(src),
    readiness: () => c.readiness(),
    subscribe: (cb) => c.subscribe(cb),
    release: () => {},
  };
}
