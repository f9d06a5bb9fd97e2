// signalfd: pending signals read as a file. A read takes the pending signals in the file's
// mask — the calling thread's own first, then those waiting on its process's leader (where
// process-directed signals wait while every thread blocks them) — as 128-byte
// signalfd_siginfo records, lowest signal first, and waits while there are none. Readiness is
// the caller's, as on Linux; queueing any signal tells the waiters.
//
// It must never dequeue a signal outside its mask, nor SIGKILL or SIGSTOP, and never throws.

import { Errno } from '../../../abi/linux/errno.js';
import { POLLIN, POLLRDNORM } from '../../../abi/linux/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import { hasSignalIn, takeSignal, type SigInfo } from '../../kernel/signals.js';
import type { FileImpl } from '../../vfs/inode.js';

const RECORD = 128;

export class SignalFd {
  constructor(
    private readonly kernel: Kernel,
    /** The signals read, as bits (bit n-1 for signal n); never SIGKILL or SIGSTOP. */
    public mask: bigint,
  ) {}

  read(dst: Uint8Array): number {
    if (dst.length < RECORD) return -Errno.EINVAL;
    const t = this.kernel.current;
    let n = 0;
    while (t !== null && n + RECORD <= dst.length) {
      const info = takeSignal(t, this.mask);
      if (info === undefined) break;
      writeRecord(dst.subarray(n, n + RECORD), info);
      n += RECORD;
    }
    return n > 0 ? n : -Errno.EAGAIN;
  }

  readiness(): number {
    const t = this.kernel.current;
    return t !== null && hasSignalIn(t, this.mask) ? POLLIN | POLLRDNORM : 0;
  }

  subscribe(cb: () => void): () => void {
    this.kernel.signalWatchers.add(cb);
    return () => this.kernel.signalWatchers.delete(cb);
  }
}

/** struct signalfd_siginfo from what the kernel kept of the signal. */
function writeRecord(b: Uint8Array, info: SigInfo): void {
  b.fill(0);
  const dv = new DataView(b.buffer, b.byteOffset, RECORD);
  dv.setUint32(0, info.signo, true);
  dv.setInt32(4, info.errno ?? 0, true);
  dv.setInt32(8, info.code, true);
  dv.setUint32(12, info.pid ?? 0, true);
  dv.setUint32(16, info.uid ?? 0, true);
  dv.setInt32(40, info.status ?? 0, true);
  if (info.timer !== undefined) {
    dv.setUint32(24, info.timer.id, true);
    dv.setUint32(32, info.overrun ?? 0, true);
    dv.setInt32(44, Number(BigInt.asIntN(32, info.timer.value)), true);
    dv.setBigUint64(48, info.timer.value, true);
  }
  dv.setBigUint64(72, info.addr ?? 0n, true);
  dv.setInt32(84, info.syscall ?? 0, true);
  dv.setUint32(96, info.arch ?? 0, true);
}

const signalfds = new WeakMap<FileImpl, SignalFd>();

export function signalfdImpl(s: SignalFd): FileImpl {
  const impl: FileImpl = {
    seekable: false,
    read: (dst) => s.read(dst),
    write: () => -Errno.EINVAL,
    readiness: () => s.readiness(),
    subscribe: (cb) => s.subscribe(cb),
    release: () => {},
  };
  signalfds.set(impl, s);
  return impl;
}

/** The signalfd behind a file implementation, or null. */
export function signalfdOf(impl: FileImpl | null): SignalFd | null {
  return impl === null ? null : (signalfds.get(impl) ?? null);
}
