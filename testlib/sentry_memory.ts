// Test double of application memory for unit tests of syscall handlers: one contiguous,
// readable and writable range [base, base + size) over an ArrayBuffer. Any byte outside it
// answers -EFAULT, as the real AppMemory does for unmapped addresses. Never used outside tests.

import { Errno } from '../src/abi/linux/errno.js';
import type { Addr, AppMemory } from '../src/sentry/mm/app_memory.js';

export class TestMemory implements AppMemory {
  readonly bytes: Uint8Array;
  /** The next free address of alloc(). */
  private brk: bigint;

  constructor(
    readonly base: bigint = 0x10000n,
    size = 1 << 20,
  ) {
    this.bytes = new Uint8Array(size);
    this.brk = base;
  }

  private index(addr: Addr, len: number): number {
    if (addr < this.base) return -1;
    const off = addr - this.base;
    if (off + BigInt(len) > BigInt(this.bytes.length)) return -1;
    return Number(off);
  }

  copyIn(addr: Addr, len: number): Uint8Array | number {
    const i = this.index(addr, len);
    if (i < 0) return -Errno.EFAULT;
    return this.bytes.slice(i, i + len);
  }

  copyOut(addr: Addr, data: Uint8Array): number {
    const i = this.index(addr, data.length);
    if (i < 0) return -Errno.EFAULT;
    this.bytes.set(data, i);
    return data.length;
  }

  copyInString(addr: Addr, max: number): string | number {
    let i = this.index(addr, 0);
    if (i < 0) return -Errno.EFAULT;
    const start = i;
    for (;;) {
      if (i >= this.bytes.length) return -Errno.EFAULT;
      if (this.bytes[i] === 0) return Buffer.from(this.bytes.subarray(start, i)).toString('utf8');
      if (i - start >= max) return -Errno.ENAMETOOLONG;
      i++;
    }
  }

  /** Reserves `len` bytes (8-aligned) and returns their address. */
  alloc(len: number): bigint {
    const a = this.brk;
    this.brk += BigInt((len + 7) & ~7);
    if (this.brk > this.base + BigInt(this.bytes.length)) throw new Error('test memory exhausted');
    return a;
  }

  /** Writes `s` with a NUL at a fresh address. */
  string(s: string): bigint {
    const b = Buffer.from(s + '\0', 'utf8');
    const a = this.alloc(b.length);
    this.bytes.set(b, Number(a - this.base));
    return a;
  }

  /** Writes `data` at a fresh address. */
  data(d: Uint8Array): bigint {
    const a = this.alloc(d.length);
    this.bytes.set(d, Number(a - this.base));
    return a;
  }

  /** Reads `len` bytes at `addr` (throws on a bad range: tests only). */
  read(addr: bigint, len: number): Uint8Array {
    const r = this.copyIn(addr, len);
    if (typeof r === 'number') throw new Error(`bad test read at ${addr}`);
    return r;
  }

  /** An address no mapping covers. */
  get bad(): bigint {
    return 0x8n;
  }
}
