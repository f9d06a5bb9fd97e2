// One application address space as the kernel manages it. Two layers, as in gVisor's mm:
// - VMAs: what the application asked for (range, protection, private or shared, and the
//   memory object a file or shared mapping shows: obj + objOff);
// - pmas: which memory-file pages back which part of a VMA, created on first touch (the
//   platform reports the fault, or a system call copies into the range), each holding one
//   reference per page. A pma marked `cow` shares its pages (with another address space
//   after fork, or with a file's page cache under a private mapping) and is mapped
//   read-only: the first write copies it (or takes it over when no one else holds it).
//   A pma marked `clean` is a shared file page mapped read-only until its first write, so
//   that only written pages are written back.
// Reservations cost nothing until touched; fork shares private memory copy-on-write instead
// of copying; MAP_SHARED memory is the object's pages for every mapping of it.
//
// It must never let a copy touch memory outside a VMA that allows it (-EFAULT instead), never
// let a write reach a page another holder can see unless the mapping is shared, and never
// throw on an application-supplied address or length.

import { Errno } from '../../abi/linux/errno.js';
import type { AddressSpace, ThreadContext } from '../../platform/platform.js';
import type { Addr, AppMemory } from './app_memory.js';
import { PAGE, type MemoryFile } from './memory_file.js';
import type { Invalidator, Mappable, PageCache } from './page_cache.js';
import { RangeSet, type Range } from './range_set.js';

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x100;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

const PAGE_N = BigInt(PAGE);
const PROT_ALL = PROT_READ | PROT_WRITE | PROT_EXEC;
/** Private anonymous memory is mapped this much at a time around a fault (costs nothing until touched). */
const FAULT_AROUND_ANON = 2n << 20n;
/** Object (file, shared) memory is read and mapped this much at a time. */
const FAULT_AROUND_OBJ = 256n << 10n;
/** A copy-on-write break copies this much around the written address. */
const COW_CHUNK = 64n << 10n;
const SEGV_ACCERR = 2;
export const SIGBUS = 7;
export const SIGSEGV = 11;
const utf8 = new TextDecoder('utf-8');

/** What a file mapping holds of its open file (a reference, as Linux's vm_file). */
export interface MappedFile {
  incRef(): void;
  decRef(): void;
}

export interface Vma extends Range {
  prot: number;
  /** The protections mprotect may grant (a shared mapping of a read-only file lacks write). */
  maxProt: number;
  /** MAP_SHARED or MAP_PRIVATE, and MAP_GROWSDOWN. */
  flags: number;
  /** '[heap]', '[stack]', '[anon]', 'elf', a file's path… (for /proc/PID/maps). */
  name: string;
  /** The memory object shown (files, shared memory); null for private anonymous memory. */
  obj: Mappable | null;
  /** Byte offset of `start` in obj. */
  objOff: number;
  file: MappedFile | null;
  dontFork: boolean;
  wipeOnFork: boolean;
  /** mlock'ed (VM_LOCKED): DONTNEED and REMOVE refuse it. */
  locked: boolean;
  /** System V segment id for shmdt, or -1. */
  shmid: number;
}

interface Pma extends Range {
  /** Memory-file offset of `start`. */
  off: number;
  cow: boolean;
  clean: boolean;
  /** Mapped into the platform's address space (else the first access faults and maps it). */
  mapped: boolean;
}

export function pageUp(n: bigint): bigint {
  return (n + PAGE_N - 1n) & ~(PAGE_N - 1n);
}

function alignDown(n: bigint, a: bigint): bigint {
  return n - (n % a);
}

const isShared = (v: Vma): boolean => (v.flags & MAP_SHARED) !== 0;

let nextId = 1;

export interface MapOptions {
  obj?: Mappable;
  objOff?: number;
  file?: MappedFile;
  maxProt?: number;
  shmid?: number;
  /** Writes initial contents after the mapping exists (the ELF loader). */
  fill?: (start: bigint) => number;
}

export class MemoryManager implements AppMemory, Invalidator {
  private readonly vmas = new RangeSet<Vma>();
  private readonly pmas = new RangeSet<Pma>();
  /** Processes using this address space: more than one while a vfork child runs in it. */
  users = 1;
  /** Identifies the address space in private futex keys. */
  readonly id = nextId++;
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

  /** The VMAs, for /proc/PID/maps, limits and tests. */
  mappings(): readonly Vma[] {
    return this.vmas.all();
  }

  /** Bytes of memory-file pages this address space maps (its resident set, as we count it). */
  residentBytes(): number {
    return this.resident;
  }

  /** The most residentBytes() has been. */
  get peakResidentBytes(): number {
    return this.peak;
  }

  private resident = 0;
  private peak = 0;

  /** Adds a pma, counting its pages as resident. */
  private addPma(p: Pma): void {
    this.pmas.insert(p);
    this.resident += Number(p.end - p.start);
    if (this.resident > this.peak) this.peak = this.resident;
  }

  /** Bytes of resident memory only this address space holds (private, not shared). */
  privateBytes(): number {
    let n = 0n;
    for (const p of this.pmas.all()) if (!p.cow) n += p.end - p.start;
    return Number(n);
  }

  // ---- placement ----

  /** Highest free range of `len` below mmapTop; -1n when none. */
  private placeTopDown(len: bigint): bigint {
    let top = this.mmapTop;
    const all = this.vmas.all();
    for (let i = this.vmas.lowerBound(top) - 1 + 1; i >= 0; i--) {
      const v = all[i];
      if (v === undefined) continue;
      if (v.start >= top) continue;
      if (v.end <= top - len) break;
      top = v.start;
    }
    const start = top - len;
    return start >= this.minAddr ? start : -1n;
  }

  private free(start: bigint, len: bigint): boolean {
    return (
      start >= this.minAddr &&
      start + len <= this.maxAddr &&
      !this.vmas.overlaps(start, start + len)
    );
  }

  // ---- mmap / munmap / mprotect / brk / mremap ----

  /**
   * Implements the core of mmap: a new mapping, private anonymous memory unless `o.obj`
   * gives the object it shows. Returns the address or -errno.
   */
  mmap(
    addr: bigint,
    length: bigint,
    prot: number,
    flags: number,
    name: string,
    fillOrOpts?: ((vmaStart: bigint) => number) | MapOptions,
  ): bigint {
    const o: MapOptions =
      typeof fillOrOpts === 'function' ? { fill: fillOrOpts } : (fillOrOpts ?? {});
    if (length <= 0n) return -BigInt(Errno.EINVAL);
    const len = pageUp(length);
    if (len > this.maxAddr) return -BigInt(Errno.ENOMEM);
    const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
    if (addr % PAGE_N !== 0n && fixed) return -BigInt(Errno.EINVAL);
    let start: bigint;
    if (fixed) {
      start = addr;
      if (start < this.minAddr || start + len > this.maxAddr) return -BigInt(Errno.ENOMEM);
      if (this.vmas.overlaps(start, start + len)) {
        if ((flags & MAP_FIXED) === 0) return -BigInt(Errno.EEXIST);
        const r = this.munmap(start, len);
        if (r < 0) return BigInt(r);
      }
    } else {
      const hint = alignDown(addr, PAGE_N);
      start = hint !== 0n && this.free(hint, len) ? hint : this.placeTopDown(len);
      if (start < 0n) return -BigInt(Errno.ENOMEM);
    }
    const vma: Vma = {
      start,
      end: start + len,
      prot,
      maxProt: o.maxProt ?? PROT_ALL,
      flags: flags & (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN),
      name,
      obj: o.obj ?? null,
      objOff: o.objOff ?? 0,
      file: o.file ?? null,
      dontFork: false,
      wipeOnFork: false,
      locked: false,
      shmid: o.shmid ?? -1,
    };
    if ((vma.flags & (MAP_SHARED | MAP_PRIVATE)) === 0) vma.flags |= MAP_PRIVATE;
    this.attachVma(vma);
    this.insertVma(vma);
    if (o.fill) {
      const r = o.fill(start);
      if (r < 0) {
        this.munmap(start, len);
        return BigInt(r);
      }
    }
    return start;
  }

  private attachVma(v: Vma): void {
    if (v.obj !== null) {
      const c = v.obj.cache;
      c.mappers.set(this, (c.mappers.get(this) ?? 0) + 1);
      v.obj.attach(isShared(v) && (v.maxProt & PROT_WRITE) !== 0);
    }
    v.file?.incRef();
  }

  private detachVma(v: Vma): void {
    if (v.obj !== null) {
      const c = v.obj.cache;
      const n = (c.mappers.get(this) ?? 0) - 1;
      if (n > 0) c.mappers.set(this, n);
      else c.mappers.delete(this);
      v.obj.detach(isShared(v) && (v.maxProt & PROT_WRITE) !== 0);
    }
    v.file?.decRef();
  }

  /** Pages [fromPg, toPg) of `cache` were dropped (truncate, hole punch): forget our maps of them. */
  invalidate(cache: PageCache, fromPg: number, toPg: number): void {
    for (const v of [...this.vmas.all()]) {
      if (v.obj?.cache !== cache) continue;
      const firstPg = v.objOff / PAGE;
      const lastPg = firstPg + Number((v.end - v.start) / PAGE_N);
      const a = Math.max(fromPg, firstPg);
      const b = Math.min(toPg, lastPg);
      if (a >= b) continue;
      const s = v.start + BigInt((a - firstPg) * PAGE);
      const e = v.start + BigInt((b - firstPg) * PAGE);
      this.as.unmap(s, Number(e - s));
      this.dropPmas(s, e);
    }
  }

  /** Inserts `v`, merged into a private anonymous neighbour it continues. */
  private insertVma(v: Vma): void {
    const i = this.vmas.lowerBound(v.start);
    const prev = this.vmas.at(i - 1);
    if (prev !== undefined && prev.end === v.start && this.mergeable(prev, v)) {
      prev.end = v.end;
      const next = this.vmas.at(i);
      if (next !== undefined && next.start === prev.end && this.mergeable(prev, next)) {
        prev.end = next.end;
        this.vmas.remove(next);
      }
      return;
    }
    const next = this.vmas.at(i);
    if (next !== undefined && next.start === v.end && this.mergeable(v, next)) {
      next.start = v.start;
      return;
    }
    this.vmas.insert(v);
  }

  private mergeable(a: Vma, b: Vma): boolean {
    return (
      a.obj === null &&
      b.obj === null &&
      a.file === null &&
      b.file === null &&
      a.prot === b.prot &&
      a.maxProt === b.maxProt &&
      a.flags === b.flags &&
      a.name === b.name &&
      a.dontFork === b.dontFork &&
      a.wipeOnFork === b.wipeOnFork &&
      a.locked === b.locked &&
      a.shmid === b.shmid
    );
  }

  /** Makes `at` a boundary of VMAs and of pmas. */
  private splitAt(at: bigint): void {
    this.vmas.splitAt(at, (v, a) => {
      const r: Vma = { ...v, start: a, objOff: v.objOff + Number(a - v.start) };
      this.attachVma(r);
      return r;
    });
    this.splitPma(at);
  }

  private splitPma(at: bigint): void {
    this.pmas.splitAt(at, (p, a) => ({ ...p, start: a, off: p.off + Number(a - p.start) }));
  }

  munmap(addr: bigint, length: bigint): number {
    if (addr % PAGE_N !== 0n || length <= 0n) return -Errno.EINVAL;
    const end = addr + pageUp(length);
    if (end > this.maxAddr || end < addr) return -Errno.EINVAL;
    this.unmapRange(addr, end);
    return 0;
  }

  private unmapRange(addr: bigint, end: bigint): void {
    if (!this.vmas.overlaps(addr, end)) return;
    this.splitAt(addr);
    this.splitAt(end);
    for (const v of this.vmas.removeWithin(addr, end)) this.detachVma(v);
    // The stub lets go first: a thread of it running on another CPU must never touch a page
    // after the memory file has taken it back (it could be another process's next).
    this.as.unmap(addr, Number(end - addr));
    this.dropPmas(addr, end);
  }

  /** Drops the pmas of [addr, end) (split at the bounds already), references and all. */
  private dropPmas(addr: bigint, end: bigint): void {
    this.splitPma(addr);
    this.splitPma(end);
    for (const p of this.pmas.removeWithin(addr, end))
      this.mf.decRef(p.off, Number(p.end - p.start));
  }

  /** True when every page of [addr, end) is in some VMA. */
  private fullyMapped(addr: bigint, end: bigint): boolean {
    let cur = addr;
    for (const v of this.vmas.overlapping(addr, end)) {
      if (v.start > cur) return false;
      cur = v.end;
    }
    return cur >= end;
  }

  mprotect(addr: bigint, length: bigint, prot: number): number {
    if (addr % PAGE_N !== 0n) return -Errno.EINVAL;
    const end = addr + pageUp(length);
    if (end < addr) return -Errno.ENOMEM;
    if (length === 0n) return 0;
    if (!this.fullyMapped(addr, end)) return -Errno.ENOMEM;
    for (const v of this.vmas.overlapping(addr, end)) {
      if ((prot & ~v.maxProt & PROT_ALL) !== 0) return -Errno.EACCES;
    }
    this.splitAt(addr);
    this.splitAt(end);
    for (const v of this.vmas.overlapping(addr, end)) {
      v.prot = prot;
      for (const p of this.pmas.overlapping(v.start, v.end)) {
        if (p.mapped) this.as.protect(p.start, Number(p.end - p.start), this.effProt(v, p));
      }
    }
    return 0;
  }

  private effProt(v: Vma, p: Pma): number {
    return p.cow || p.clean ? v.prot & ~PROT_WRITE : v.prot;
  }

  /** Implements brk(2)'s semantics: returns the new (or unchanged) break. */
  brk(want: bigint): bigint {
    if (want < this.brkStart) return this.brkEnd;
    const oldTop = pageUp(this.brkEnd);
    const newTop = pageUp(want);
    if (newTop > oldTop) {
      if (newTop > this.maxAddr || this.vmas.overlaps(oldTop, newTop)) return this.brkEnd;
      const r = this.mmap(
        oldTop,
        newTop - oldTop,
        PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_FIXED,
        '[heap]',
      );
      if (r < 0n) return this.brkEnd;
    } else if (newTop < oldTop) {
      this.unmapRange(newTop, oldTop);
    }
    this.brkEnd = want;
    return want;
  }

  /** Implements mremap(2). Returns the new address or -errno. */
  mremap(
    old: bigint,
    oldLength: bigint,
    newLength: bigint,
    flags: number,
    newAddr: bigint,
  ): bigint {
    const E = (e: number): bigint => -BigInt(e);
    if (old % PAGE_N !== 0n) return E(Errno.EINVAL);
    if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) return E(Errno.EINVAL);
    if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0 && (flags & MREMAP_MAYMOVE) === 0)
      return E(Errno.EINVAL);
    const oldLen = pageUp(oldLength);
    const newLen = pageUp(newLength);
    if (newLen === 0n || newLen > this.maxAddr) return E(Errno.EINVAL);
    if ((flags & MREMAP_DONTUNMAP) !== 0 && oldLen !== newLen) return E(Errno.EINVAL);
    if (old + oldLen > this.maxAddr) return E(Errno.EINVAL);
    const v = this.vmas.find(old);
    if (v === undefined) return E(Errno.EFAULT);
    if (oldLen === 0n) {
      // A second mapping of the same shared pages.
      if (!isShared(v) || (flags & MREMAP_MAYMOVE) === 0) return E(Errno.EINVAL);
    } else if (old + oldLen > v.end) return E(Errno.EFAULT);
    if ((flags & MREMAP_FIXED) !== 0) {
      if (newAddr % PAGE_N !== 0n) return E(Errno.EINVAL);
      if (newAddr < old + oldLen && old < newAddr + newLen) return E(Errno.EINVAL);
      if (newAddr < this.minAddr || newAddr + newLen > this.maxAddr) return E(Errno.EINVAL);
      this.unmapRange(newAddr, newAddr + newLen);
      return this.move(old, oldLen, newAddr, newLen, flags);
    }
    if ((flags & MREMAP_DONTUNMAP) !== 0) {
      const dest = this.placeTopDown(newLen);
      if (dest < 0n) return E(Errno.ENOMEM);
      return this.move(old, oldLen, dest, newLen, flags);
    }
    if (newLen <= oldLen) {
      if (newLen < oldLen) this.unmapRange(old + newLen, old + oldLen);
      return old;
    }
    // Grow in place when the range ends the VMA and the space after it is free.
    const tail = old + oldLen;
    if (tail === v.end && this.free(tail, newLen - oldLen)) {
      if (v.start < old) this.splitAt(old);
      const w = this.vmas.find(old);
      if (w !== undefined) w.end = old + newLen;
      return old;
    }
    if ((flags & MREMAP_MAYMOVE) === 0) return E(Errno.ENOMEM);
    const dest = this.placeTopDown(newLen);
    if (dest < 0n) return E(Errno.ENOMEM);
    return this.move(old, oldLen, dest, newLen, flags);
  }

  /** Moves [old, old+oldLen) to `dest` as a mapping of `newLen`; its pages move with it. */
  private move(old: bigint, oldLen: bigint, dest: bigint, newLen: bigint, flags: number): bigint {
    if (oldLen === 0n) {
      const v = this.vmas.find(old);
      if (v === undefined) return -BigInt(Errno.EFAULT);
      const nv: Vma = {
        ...v,
        start: dest,
        end: dest + newLen,
        objOff: v.objOff + Number(old - v.start),
      };
      this.attachVma(nv);
      this.vmas.insert(nv);
      return dest;
    }
    this.splitAt(old);
    this.splitAt(old + oldLen);
    const v = this.vmas.find(old);
    if (v === undefined) return -BigInt(Errno.EFAULT);
    const nv: Vma = { ...v, start: dest, end: dest + newLen };
    const shift = dest - old;
    this.splitPma(old);
    this.splitPma(old + oldLen);
    const moved = this.pmas.removeWithin(old, old + oldLen);
    this.as.unmap(old, Number(oldLen));
    if ((flags & MREMAP_DONTUNMAP) === 0) {
      this.vmas.remove(v);
      this.detachVma(v);
    }
    this.attachVma(nv);
    this.vmas.insert(nv);
    for (const p of moved) {
      p.start += shift;
      p.end += shift;
      p.mapped = false;
      this.pmas.insert(p);
    }
    return dest;
  }

  // ---- advice, sync, residency ----

  /**
   * MADV_DONTNEED (and FREE, `anonOnly`): private memory reads as zeros (file mappings: the
   * file) afterwards, its pages given back; shared memory keeps its bytes (they are the
   * object's) but this address space lets go of them. -EINVAL on locked memory (or, for
   * FREE, on anything but private anonymous memory), -ENOMEM for unmapped pages.
   */
  dontNeed(addr: bigint, length: bigint, anonOnly = false): number {
    const end = addr + pageUp(length);
    if (!this.fullyMapped(addr, end)) return -Errno.ENOMEM;
    const vs = this.vmas.overlapping(addr, end);
    for (const v of vs) {
      if (v.locked) return -Errno.EINVAL;
      if (anonOnly && (v.obj !== null || isShared(v))) return -Errno.EINVAL;
    }
    this.as.unmap(addr, Number(end - addr));
    this.dropPmas(addr, end);
    return 0;
  }

  /** MADV_REMOVE: punches the shared object's pages of the range (they read as zeros). */
  removeRange(addr: bigint, length: bigint): number {
    const end = addr + pageUp(length);
    if (!this.fullyMapped(addr, end)) return -Errno.ENOMEM;
    const vs = this.vmas.overlapping(addr, end);
    for (const v of vs) {
      if (v.locked || v.obj === null) return -Errno.EINVAL;
      if (!isShared(v) || (v.maxProt & PROT_WRITE) === 0) return -Errno.EACCES;
      if (v.obj.sync !== undefined) return -Errno.EOPNOTSUPP;
    }
    for (const v of vs) {
      const s = v.start > addr ? v.start : addr;
      const e = v.end < end ? v.end : end;
      const pg = (v.objOff + Number(s - v.start)) / PAGE;
      v.obj?.cache.drop(pg, Number(e - s) / PAGE);
    }
    return 0;
  }

  /** mlock/munlock: marks the range locked (populating it) or not. */
  lock(addr: bigint, length: bigint, on: boolean, populate: boolean): number {
    const end = addr + pageUp(length);
    if (!this.fullyMapped(addr, end)) return -Errno.ENOMEM;
    this.splitAt(addr);
    this.splitAt(end);
    const vs = this.vmas.overlapping(addr, end);
    for (const v of vs) v.locked = on;
    if (!on || !populate) return 0;
    // As mlock does: pages of accessible mappings are faulted in; a PROT_NONE one cannot
    // be (it stays locked, and mlock answers ENOMEM).
    let r = 0;
    for (const v of vs) {
      if (v.prot === 0 || this.populateRange(v.start, v.end - v.start, false) < 0)
        r = -Errno.ENOMEM;
    }
    return r;
  }

  /** MADV_POPULATE_READ/WRITE, mlock: backs every page of the range now. */
  populateRange(addr: bigint, length: bigint, write: boolean): number {
    const end = addr + pageUp(length);
    if (!this.fullyMapped(addr, end)) return -Errno.ENOMEM;
    for (const v of this.vmas.overlapping(addr, end)) {
      if (v.prot === 0 || (write && (v.prot & PROT_WRITE) === 0)) return -Errno.EINVAL;
    }
    let cur = addr;
    while (cur < end) {
      const v = this.vmas.find(cur);
      if (v === undefined) return -Errno.ENOMEM;
      const p = this.pmaFor(v, cur, write);
      if (p === undefined) return -Errno.EFAULT;
      cur = p.end < v.end ? p.end : v.end;
    }
    return 0;
  }

  /** MADV_DONTFORK/DOFORK/WIPEONFORK/KEEPONFORK over [addr, addr+len). */
  setForkAdvice(
    addr: bigint,
    length: bigint,
    what: 'dontFork' | 'wipeOnFork',
    on: boolean,
  ): number {
    const end = addr + pageUp(length);
    if (!this.fullyMapped(addr, end)) return -Errno.ENOMEM;
    if (what === 'wipeOnFork') {
      for (const v of this.vmas.overlapping(addr, end))
        if (isShared(v) || v.obj !== null) return -Errno.EINVAL;
    }
    this.splitAt(addr);
    this.splitAt(end);
    for (const v of this.vmas.overlapping(addr, end)) v[what] = on;
    return 0;
  }

  /** True when [addr, addr+len) is entirely mapped (mlock, madvise's ENOMEM). */
  isMapped(addr: bigint, length: bigint): boolean {
    return this.fullyMapped(addr, addr + pageUp(length));
  }

  /** msync(2): writes back shared file pages of the range; -ENOMEM for unmapped pages. */
  sync(addr: bigint, length: bigint): number {
    const end = addr + pageUp(length);
    if (!this.fullyMapped(addr, end)) return -Errno.ENOMEM;
    for (const v of this.vmas.overlapping(addr, end)) {
      if (!isShared(v) || v.obj?.sync === undefined) continue;
      const s = v.start > addr ? v.start : addr;
      const e = v.end < end ? v.end : end;
      this.cleanPmas(v, s, e);
      const r = v.obj.sync(v.objOff + Number(s - v.start), Number(e - s));
      if (r < 0) return r;
    }
    return 0;
  }

  /** After write-back, pages of [s, e) are mapped read-only again to see the next write. */
  private cleanPmas(v: Vma, s: bigint, e: bigint): void {
    if ((v.prot & PROT_WRITE) === 0) return;
    for (const p of this.pmas.overlapping(s, e)) {
      if (p.clean || p.start < s || p.end > e) continue;
      p.clean = true;
      if (p.mapped) this.as.protect(p.start, Number(p.end - p.start), this.effProt(v, p));
    }
  }

  /** mincore(2)'s vector: 1 for each page of the range backed by memory. -ENOMEM if unmapped. */
  residency(addr: bigint, length: bigint): Uint8Array | number {
    const end = addr + pageUp(length);
    if (!this.fullyMapped(addr, end)) return -Errno.ENOMEM;
    const out = new Uint8Array(Number((end - addr) / PAGE_N));
    for (const p of this.pmas.overlapping(addr, end)) {
      const s = p.start > addr ? p.start : addr;
      const e = p.end < end ? p.end : end;
      out.fill(1, Number((s - addr) / PAGE_N), Number((e - addr) / PAGE_N));
    }
    for (const v of this.vmas.overlapping(addr, end)) {
      if (v.obj === null) continue;
      const s = v.start > addr ? v.start : addr;
      const e = v.end < end ? v.end : end;
      for (let a = s; a < e; a += PAGE_N) {
        const pg = (v.objOff + Number(a - v.start)) / PAGE;
        if (v.obj.cache.get(pg) !== undefined) out[Number((a - addr) / PAGE_N)] = 1;
      }
    }
    return out;
  }

  // ---- faults ----

  /**
   * A fault the platform reported at `addr` (`code`: SEGV_MAPERR or SEGV_ACCERR). 0 when the
   * Sentry resolved it (memory populated or mapped, a copy-on-write broken) and the access is
   * to be retried; SIGSEGV when it is the application's own fault; SIGBUS for a page past the
   * end of the object mapped (or memory the sandbox cannot have).
   */
  fault(addr: bigint, code: number): number {
    const v = this.vmas.find(addr);
    if (v === undefined || v.prot === 0) return SIGSEGV;
    const p = this.pmas.find(addr);
    if (p === undefined) return this.populate(v, addr, true) >= 0 ? 0 : SIGBUS;
    if (!p.mapped) return this.mapPma(v, p) >= 0 ? 0 : SIGSEGV;
    if (code !== SEGV_ACCERR || (v.prot & PROT_WRITE) === 0) return SIGSEGV;
    if (p.cow) return this.breakCow(v, p, addr) >= 0 ? 0 : SIGBUS;
    if (p.clean) {
      this.dirty(v, p);
      return 0;
    }
    return SIGSEGV;
  }

  private mapPma(v: Vma, p: Pma): number {
    const r = this.as.map(p.start, Number(p.end - p.start), p.off, this.effProt(v, p));
    if (r >= 0) p.mapped = true;
    return r;
  }

  /** A clean shared page written: it must be written back; it is writable from now on. */
  private dirty(v: Vma, p: Pma): void {
    p.clean = false;
    if (v.obj !== null) {
      const pg0 = (v.objOff + Number(p.start - v.start)) / PAGE;
      for (let i = 0, n = Number(p.end - p.start) / PAGE; i < n; i++)
        v.obj.cache.dirty.add(pg0 + i);
    }
    if (p.mapped) this.as.protect(p.start, Number(p.end - p.start), this.effProt(v, p));
  }

  /**
   * Backs the part of `v` around `addr` with memory (the object's pages, or fresh zeroed
   * ones), mapping it into the platform when `map`. 0 or -errno.
   */
  private populate(v: Vma, addr: bigint, map: boolean): number {
    const around = v.obj === null ? FAULT_AROUND_ANON : FAULT_AROUND_OBJ;
    let lo = alignDown(addr, around);
    let hi = lo + around;
    if (lo < v.start) lo = v.start;
    if (hi > v.end) hi = v.end;
    const i = this.pmas.lowerBound(addr);
    const next = this.pmas.at(i);
    const prev = this.pmas.at(i - 1);
    if (prev !== undefined && prev.end > lo) lo = prev.end;
    if (next !== undefined && next.start < hi) hi = next.start;
    if (v.obj === null) {
      const len = Number(hi - lo);
      const off = this.mf.allocate(len);
      if (off < 0) return -Errno.ENOMEM;
      const p: Pma = { start: lo, end: hi, off, cow: false, clean: false, mapped: false };
      this.addPma(p);
      return map ? this.mapPma(v, p) : 0;
    }
    const obj = v.obj;
    const size = obj.size?.();
    if (size !== undefined) {
      // Pages past the object's end have nothing to show: SIGBUS (EFAULT for the Sentry).
      const endAddr = v.start + pageUp(BigInt(size)) - BigInt(v.objOff);
      if (addr >= endAddr) return -Errno.EFAULT;
      if (hi > endAddr) hi = endAddr;
    }
    const pos = v.objOff + Number(lo - v.start);
    const pg0 = pos / PAGE;
    const n = Number(hi - lo) / PAGE;
    const fill = obj.fill?.bind(obj);
    const r = obj.cache.populate(pg0, n, fill);
    if (r < 0) return r;
    const shared = isShared(v);
    // Shared pages of an object that writes back start clean (read-only) so writes are seen.
    const clean = shared && obj.sync !== undefined && (v.prot & PROT_WRITE) !== 0;
    let res = 0;
    obj.cache.runs(pg0, n, (pg, count, off) => {
      const start = v.start + BigInt(pg * PAGE - v.objOff);
      const len = count * PAGE;
      this.mf.incRef(off, len);
      const p: Pma = { start, end: start + BigInt(len), off, cow: !shared, clean, mapped: false };
      this.addPma(p);
      if (map && res >= 0) res = this.mapPma(v, p);
    });
    return res;
  }

  /** Gives the written part of a copy-on-write pma memory of its own. 0 or -errno. */
  private breakCow(v: Vma, p: Pma, addr: bigint): number {
    const whole = Number(p.end - p.start);
    if (v.obj === null && this.mf.exclusive(p.off, whole)) {
      // Nobody else holds these pages any more: take them over without a copy.
      p.cow = false;
      if (p.mapped) this.as.protect(p.start, whole, this.effProt(v, p));
      return 0;
    }
    let lo = alignDown(addr, COW_CHUNK);
    let hi = lo + COW_CHUNK;
    if (lo < p.start) lo = p.start;
    if (hi > p.end) hi = p.end;
    this.splitPma(lo);
    this.splitPma(hi);
    const q = this.pmas.find(addr);
    if (q === undefined) return -Errno.EFAULT;
    const len = Number(q.end - q.start);
    const off = this.mf.allocate(len);
    if (off < 0) return -Errno.ENOMEM;
    this.mf.copy(q.off, off, len);
    const old = q.off;
    q.off = off;
    q.cow = false;
    q.clean = false;
    q.mapped = false;
    // The new page is mapped over the old before the old may go back to the memory file.
    const r = this.mapPma(v, q);
    this.mf.decRef(old, len);
    return r;
  }

  // ---- the Sentry's own access to application memory ----

  /**
   * The pma backing `addr` in `v`, populated (not mapped into the platform) when missing and
   * made writable when `write`; undefined when memory cannot be had.
   */
  private pmaFor(v: Vma, addr: bigint, write: boolean): Pma | undefined {
    let p = this.pmas.find(addr);
    if (p === undefined) {
      if (this.populate(v, addr, false) < 0) return undefined;
      p = this.pmas.find(addr);
      if (p === undefined) return undefined;
    }
    if (write && p.cow) {
      if (this.breakCow(v, p, addr) < 0) return undefined;
      p = this.pmas.find(addr);
    } else if (write && p.clean) this.dirty(v, p);
    return p;
  }

  /** Walks [addr, addr+len) in backing pieces; -EFAULT if any byte lacks `need` access. */
  private walk(
    addr: Addr,
    len: number,
    need: number,
    write: boolean,
    f: (view: Uint8Array, index: number, n: number, done: number) => void,
  ): number {
    if (len === 0) return 0;
    if (addr < 0n || addr + BigInt(len) > this.maxAddr) return -Errno.EFAULT;
    let done = 0;
    let cur = addr;
    while (done < len) {
      const v = this.vmas.find(cur);
      if (v === undefined || (v.prot & need) !== need || (need !== 0 && v.prot === 0))
        return -Errno.EFAULT;
      const p = this.pmaFor(v, cur, write);
      if (p === undefined) return -Errno.EFAULT;
      const loc = this.mf.at(p.off + Number(cur - p.start));
      const n = Math.min(len - done, Number(p.end - cur), loc.room);
      f(loc.view, loc.index, n, done);
      done += n;
      cur += BigInt(n);
    }
    return len;
  }

  copyIn(addr: Addr, len: number): Uint8Array | number {
    const out = new Uint8Array(len);
    const r = this.walk(addr, len, PROT_READ, false, (view, index, n, done) => {
      out.set(view.subarray(index, index + n), done);
    });
    return r < 0 ? r : out;
  }

  copyOut(addr: Addr, data: Uint8Array): number {
    return this.walk(addr, data.length, PROT_WRITE, true, (view, index, n, done) => {
      view.set(data.subarray(done, done + n), index);
    });
  }

  /** Writes regardless of the VMA's protection (the loader filling read-only segments). */
  copyOutForce(addr: Addr, data: Uint8Array): number {
    return this.walk(addr, data.length, 0, true, (view, index, n, done) => {
      view.set(data.subarray(done, done + n), index);
    });
  }

  ioView(addr: Addr, len: number, write: boolean): Uint8Array | null {
    const v = this.vmas.find(addr);
    if (v === undefined || addr + BigInt(len) > v.end) return null;
    if ((v.prot & (write ? PROT_WRITE : PROT_READ)) === 0) return null;
    const p = this.pmaFor(v, addr, write);
    if (p === undefined || addr + BigInt(len) > p.end) return null;
    const loc = this.mf.at(p.off + Number(addr - p.start));
    if (loc.room < len) return null;
    return loc.view.subarray(loc.index, loc.index + len);
  }

  copyInString(addr: Addr, max: number): string | number {
    const parts: Uint8Array[] = [];
    let total = 0;
    let cur = addr;
    while (total <= max) {
      const v = this.vmas.find(cur);
      if (v === undefined || (v.prot & PROT_READ) === 0) return -Errno.EFAULT;
      const p = this.pmaFor(v, cur, false);
      if (p === undefined) return -Errno.EFAULT;
      const loc = this.mf.at(p.off + Number(cur - p.start));
      const n = Math.min(Number(p.end - cur), loc.room, max + 1 - total);
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
   * The key of the futex word at `addr`: the memory-file page for shared memory (every
   * mapping of it finds the same key), the address space and address for private memory.
   */
  futexKey(addr: Addr, isPrivate: boolean): string | number {
    if (addr % 4n !== 0n) return -Errno.EINVAL;
    const v = this.vmas.find(addr);
    if (v === undefined || (v.prot & PROT_READ) === 0) return -Errno.EFAULT;
    if (isPrivate || !isShared(v)) return `p${this.id}:${addr}`;
    const p = this.pmaFor(v, addr, false);
    if (p === undefined) return -Errno.EFAULT;
    return `s${p.off + Number(addr - p.start)}`;
  }

  // ---- fork, exit ----

  /**
   * fork(2): the same mappings in `as`, a new address space. Private memory is shared
   * copy-on-write (both sides map it read-only until they write); shared memory is the same
   * pages for both. The child's pages are mapped on its first touch.
   */
  fork(as: AddressSpace): MemoryManager {
    const m = new MemoryManager(this.mf, as, this.maxAddr);
    m.brkStart = this.brkStart;
    m.brkEnd = this.brkEnd;
    m.mmapTop = this.mmapTop;
    for (const v of this.vmas.all()) {
      if (v.dontFork) continue;
      const nv: Vma = { ...v };
      this.attachVma(nv);
      m.vmas.insert(nv);
      if (v.wipeOnFork) continue;
      const shared = isShared(v);
      for (const p of this.pmas.overlapping(v.start, v.end)) {
        const len = Number(p.end - p.start);
        this.mf.incRef(p.off, len);
        if (!shared && !p.cow) {
          p.cow = true;
          if (p.mapped && (v.prot & PROT_WRITE) !== 0)
            this.as.protect(p.start, len, this.effProt(v, p));
        }
        m.addPma({ ...p, mapped: false });
      }
    }
    return m;
  }

  /**
   * A process stops using the address space (exit, execve) from thread context `ctx`: the
   * last user releases everything; a vfork child leaves its parent's space as it found it.
   */
  dropUser(ctx: ThreadContext): void {
    if (--this.users > 0) {
      if (ctx !== this.as) this.as.endThread(ctx);
      return;
    }
    // The stub (every thread of it) is gone before its pages go back to the memory file.
    this.as.release();
    this.releaseAll();
  }

  /** Drops every mapping (exit, execve). Shared file pages are written back by their objects. */
  releaseAll(): void {
    for (const p of this.pmas.all()) this.mf.decRef(p.off, Number(p.end - p.start));
    this.pmas.clear();
    this.resident = 0;
    const vs = [...this.vmas.all()];
    this.vmas.clear();
    for (const v of vs) this.detachVma(v);
  }
}
