// One application address space as the kernel manages it: the VMAs (start, end, protection,
// backing range of the memory file), mmap/munmap/mprotect/brk, and the copy-in/copy-out that
// system calls use. Memory is backed eagerly: a mapping with any access gets its own range of
// the memory file and is mapped into the platform's address space at once, so the application
// faults only on real errors. PROT_NONE reservations get backing when mprotect opens them.
//
// It must never let a copy touch memory outside a VMA that allows it (-EFAULT instead), and
// never throw on an application-supplied address or length.

import { Errno } from '../../abi/linux/errno.js';
import type { AddressSpace } from '../../platform/platform.js';
import type { Addr, AppMemory } from './app_memory.js';
import { PAGE, type MemoryFile } from './memory_file.js';

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x100;
export const MAP_FIXED_NOREPLACE = 0x100000;

const PAGE_N = BigInt(PAGE);
const utf8 = new TextDecoder('utf-8');

export interface Vma {
  start: bigint;
  end: bigint;
  prot: number;
  flags: number;
  /** Offset of `start` in the memory file, or -1 while the range has no backing. */
  backing: number;
  name: string;
}

export function pageUp(n: bigint): bigint {
  return (n + PAGE_N - 1n) & ~(PAGE_N - 1n);
}

export class MemoryManager implements AppMemory {
  private vmas: Vma[] = [];
  brkStart = 0n;
  brkEnd = 0n;
  /** Where top-down placement of mmap starts (below the stack). */
  mmapTop = 0n;
  readonly minAddr = 0x10000n;

  constructor(
    readonly mf: MemoryFile,
    readonly as: AddressSpace,
    readonly maxAddr: bigint,
  ) {}

  /** The VMAs, for /proc/self/maps and tests. */
  mappings(): readonly Vma[] {
    return this.vmas;
  }

  /**
   * The VMA of the last lookup: most copies hit the same stack or heap mapping again. Splits
   * keep it valid (bounds change in place); every removal of VMAs forgets it.
   */
  private last: Vma | undefined;

  private find(addr: bigint): Vma | undefined {
    const l = this.last;
    if (l !== undefined && addr >= l.start && addr < l.end) return l;
    for (const v of this.vmas) {
      if (addr >= v.start && addr < v.end) {
        this.last = v;
        return v;
      }
    }
    return undefined;
  }

  private overlaps(start: bigint, end: bigint): boolean {
    return this.vmas.some((v) => v.start < end && start < v.end);
  }

  /** Highest free range of `len` below mmapTop. */
  private placeTopDown(len: bigint): bigint {
    let top = this.mmapTop;
    const sorted = [...this.vmas].sort((a, b) => (a.start < b.start ? 1 : -1));
    for (const v of sorted) {
      if (v.start >= top) continue;
      if (v.end <= top - len) break;
      top = v.start;
    }
    const start = top - len;
    return start >= this.minAddr ? start : -1n;
  }

  /**
   * Implements the core of mmap: a new anonymous-memory mapping. `fill` (for file mappings)
   * writes the initial contents. Returns the address or -errno.
   */
  mmap(
    addr: bigint,
    length: bigint,
    prot: number,
    flags: number,
    name: string,
    fill?: (vmaStart: bigint) => number,
  ): bigint {
    if (length === 0n) return -BigInt(Errno.EINVAL);
    const len = pageUp(length);
    if (len > this.maxAddr) return -BigInt(Errno.ENOMEM);
    if (addr % PAGE_N !== 0n && (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0)
      return -BigInt(Errno.EINVAL);
    let start: bigint;
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0) {
      start = addr;
      if (start < this.minAddr || start + len > this.maxAddr) return -BigInt(Errno.ENOMEM);
      if (this.overlaps(start, start + len)) {
        if ((flags & MAP_FIXED) === 0) return -BigInt(Errno.EEXIST);
        const r = this.munmap(start, len);
        if (r < 0) return BigInt(r);
      }
    } else {
      const hint = addr - (addr % PAGE_N);
      if (hint >= this.minAddr && hint + len <= this.maxAddr && !this.overlaps(hint, hint + len))
        start = hint;
      else start = this.placeTopDown(len);
      if (start < 0n) return -BigInt(Errno.ENOMEM);
    }
    const vma: Vma = { start, end: start + len, prot, flags, backing: -1, name };
    if (prot !== 0 || fill) {
      const r = this.back(vma);
      if (r < 0) return BigInt(r);
    }
    this.insert(vma);
    if (fill) {
      const r = fill(start);
      if (r < 0) {
        this.munmap(start, len);
        return BigInt(r);
      }
    }
    return start;
  }

  /** Gives `vma` a backing range and maps it. */
  private back(vma: Vma): number {
    const len = Number(vma.end - vma.start);
    const off = this.mf.allocate(len);
    if (off < 0) return -Errno.ENOMEM;
    const r = this.as.map(vma.start, len, off, vma.prot);
    if (r < 0) {
      this.mf.release(off, len);
      return r;
    }
    vma.backing = off;
    return 0;
  }

  private insert(vma: Vma): void {
    this.vmas.push(vma);
    this.vmas.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** Splits VMAs so that `at` is a boundary. */
  private splitAt(at: bigint): void {
    const v = this.find(at);
    if (!v || v.start === at) return;
    const right: Vma = {
      ...v,
      start: at,
      backing: v.backing < 0 ? -1 : v.backing + Number(at - v.start),
    };
    v.end = at;
    this.insert(right);
  }

  munmap(addr: bigint, length: bigint): number {
    if (addr % PAGE_N !== 0n || length === 0n) return -Errno.EINVAL;
    const end = addr + pageUp(length);
    if (end > this.maxAddr || end < addr) return -Errno.EINVAL;
    this.splitAt(addr);
    this.splitAt(end);
    const keep: Vma[] = [];
    for (const v of this.vmas) {
      if (v.start >= addr && v.end <= end) {
        if (v.backing >= 0) {
          this.as.unmap(v.start, Number(v.end - v.start));
          this.mf.release(v.backing, Number(v.end - v.start));
        }
      } else keep.push(v);
    }
    this.vmas = keep;
    this.last = undefined;
    return 0;
  }

  mprotect(addr: bigint, length: bigint, prot: number): number {
    if (addr % PAGE_N !== 0n) return -Errno.EINVAL;
    const end = addr + pageUp(length);
    if (end < addr) return -Errno.ENOMEM;
    if (length === 0n) return 0;
    // Every page must be mapped.
    let cur = addr;
    for (const v of this.vmas) {
      if (v.end <= cur || v.start >= end) continue;
      if (v.start > cur) return -Errno.ENOMEM;
      cur = v.end;
    }
    if (cur < end) return -Errno.ENOMEM;
    this.splitAt(addr);
    this.splitAt(end);
    for (const v of this.vmas) {
      if (v.start < addr || v.end > end) continue;
      v.prot = prot;
      if (v.backing < 0) {
        if (prot !== 0) {
          const r = this.back(v);
          if (r < 0) return r;
        }
      } else {
        const r = this.as.protect(v.start, Number(v.end - v.start), prot);
        if (r < 0) return r;
      }
    }
    return 0;
  }

  /** Implements brk(2)'s semantics: returns the new (or unchanged) break. */
  brk(want: bigint): bigint {
    if (want < this.brkStart) return this.brkEnd;
    const oldTop = pageUp(this.brkEnd);
    const newTop = pageUp(want);
    if (newTop > oldTop) {
      if (this.overlaps(oldTop, newTop)) return this.brkEnd;
      const r = this.mmap(
        oldTop,
        newTop - oldTop,
        PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_FIXED,
        '[heap]',
      );
      if (r < 0n) return this.brkEnd;
    } else if (newTop < oldTop) {
      this.munmap(newTop, oldTop - newTop);
    }
    this.brkEnd = want;
    return want;
  }

  /** Walks [addr, addr+len) in backing pieces; -EFAULT if any byte lacks `need` access. */
  private walk(
    addr: Addr,
    len: number,
    need: number,
    f: (view: Uint8Array, index: number, n: number, done: number) => void,
  ): number {
    if (len === 0) return 0;
    if (addr < 0n || addr + BigInt(len) > this.maxAddr) return -Errno.EFAULT;
    let done = 0;
    let cur = addr;
    while (done < len) {
      const v = this.find(cur);
      if (!v || v.backing < 0 || (v.prot & need) !== need) return -Errno.EFAULT;
      let n = Math.min(len - done, Number(v.end - cur));
      const off = v.backing + Number(cur - v.start);
      const loc = this.mf.at(off);
      n = Math.min(n, loc.room);
      f(loc.view, loc.index, n, done);
      done += n;
      cur += BigInt(n);
    }
    return len;
  }

  copyIn(addr: Addr, len: number): Uint8Array | number {
    const out = new Uint8Array(len);
    const r = this.walk(addr, len, PROT_READ, (view, index, n, done) => {
      out.set(view.subarray(index, index + n), done);
    });
    return r < 0 ? r : out;
  }

  copyOut(addr: Addr, data: Uint8Array): number {
    return this.walk(addr, data.length, PROT_WRITE, (view, index, n, done) => {
      view.set(data.subarray(done, done + n), index);
    });
  }

  ioView(addr: Addr, len: number, write: boolean): Uint8Array | null {
    const v = this.find(addr);
    if (v === undefined || v.backing < 0 || addr + BigInt(len) > v.end) return null;
    if ((v.prot & (write ? PROT_WRITE : PROT_READ)) === 0) return null;
    const loc = this.mf.at(v.backing + Number(addr - v.start));
    if (loc.room < len) return null;
    return loc.view.subarray(loc.index, loc.index + len);
  }

  /** The memory file offset backing `addr` (a futex's key), or -EFAULT. */
  backingOffset(addr: Addr): number {
    if (addr % 4n !== 0n) return -Errno.EINVAL;
    const v = this.find(addr);
    if (v === undefined || v.backing < 0 || (v.prot & PROT_READ) === 0) return -Errno.EFAULT;
    return v.backing + Number(addr - v.start);
  }

  /** Writes regardless of the VMA's protection (the loader filling read-only segments). */
  copyOutForce(addr: Addr, data: Uint8Array): number {
    return this.walk(addr, data.length, 0, (view, index, n, done) => {
      view.set(data.subarray(done, done + n), index);
    });
  }

  copyInString(addr: Addr, max: number): string | number {
    const parts: Uint8Array[] = [];
    let total = 0;
    let cur = addr;
    while (total <= max) {
      const v = this.find(cur);
      if (!v || v.backing < 0 || (v.prot & PROT_READ) === 0) return -Errno.EFAULT;
      const off = v.backing + Number(cur - v.start);
      const loc = this.mf.at(off);
      const n = Math.min(Number(v.end - cur), loc.room, max + 1 - total);
      const seg = loc.view.subarray(loc.index, loc.index + n);
      const z = seg.indexOf(0);
      if (z >= 0) {
        if (parts.length === 0) return utf8.decode(seg.subarray(0, z));
        parts.push(seg.slice(0, z));
        return utf8.decode(Buffer.concat(parts));
      }
      parts.push(seg.slice());
      total += n;
      cur += BigInt(n);
    }
    return -Errno.ENAMETOOLONG;
  }

  /**
   * MADV_DONTNEED on private anonymous memory: the range reads as zeros afterwards. Pages of
   * file mappings keep their bytes (Linux would re-read the file; ours are copies of it).
   */
  discardRange(addr: bigint, length: bigint): number {
    const end = addr + pageUp(length);
    let cur = addr;
    for (const v of this.vmas) {
      if (v.end <= addr || v.start >= end) continue;
      if (v.start > cur) return -Errno.ENOMEM;
      cur = v.end;
      if (v.backing < 0 || v.name === 'file' || v.name === 'elf') continue;
      const s = v.start > addr ? v.start : addr;
      const e = v.end < end ? v.end : end;
      this.walk(s, Number(e - s), 0, (view, index, n) => view.fill(0, index, index + n));
    }
    return cur < end ? -Errno.ENOMEM : 0;
  }

  /**
   * fork(2): the same mappings in `as`, a new address space. Private memory is copied (no
   * copy-on-write yet); MAP_SHARED memory is the same pages of the memory file for both.
   */
  fork(as: AddressSpace): MemoryManager | number {
    const m = new MemoryManager(this.mf, as, this.maxAddr);
    m.brkStart = this.brkStart;
    m.brkEnd = this.brkEnd;
    m.mmapTop = this.mmapTop;
    for (const v of this.vmas) {
      const nv: Vma = { ...v, backing: -1 };
      if (v.backing >= 0) {
        const len = Number(v.end - v.start);
        if ((v.flags & MAP_SHARED) !== 0) {
          this.mf.share(v.backing, len);
          nv.backing = v.backing;
        } else {
          const off = this.mf.allocate(len);
          if (off < 0) {
            m.releaseAll();
            return -Errno.ENOMEM;
          }
          this.mf.copy(v.backing, off, len);
          nv.backing = off;
        }
        m.vmas.push(nv);
        const r = as.map(nv.start, len, nv.backing, nv.prot);
        if (r < 0) {
          m.releaseAll();
          return r;
        }
      } else m.vmas.push(nv);
    }
    return m;
  }

  /** Drops every mapping (exit, execve). */
  releaseAll(): void {
    for (const v of this.vmas) {
      if (v.backing >= 0) this.mf.release(v.backing, Number(v.end - v.start));
    }
    this.vmas = [];
    this.last = undefined;
  }
}
