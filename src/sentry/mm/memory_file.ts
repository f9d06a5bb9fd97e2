// The memory file: one memfd that backs all application memory of a sandbox (anonymous
// memory, tmpfs file data, the page caches of mapped files). The Sentry maps it into itself
// one 1 GiB chunk at a time, on first use, and reads and writes application memory through
// typed-array views of those mappings (no system call per access); platforms map ranges of
// the same file into the application's address spaces.
//
// This module hands out page ranges of the file and counts references per page: every
// holder (an address space's pma, a page cache) owns one reference, and a page whose last
// reference goes is punched out (MADV_REMOVE) and returned to the free list, so the host's
// count of the file's blocks is what the sandbox really uses. It must never hand out a page
// that still has a reference, and never leave a freed page holding data.

import { fstatSync } from 'node:fs';
import type { HostFd } from '../../host/fd.js';
import { dataExtents, discard, mapShared, memfdCreate, viewOf } from '../../host/memory.js';

export const PAGE = 4096;
/** One Sentry view per GiB: V8 caps a single ArrayBuffer's length. */
const CHUNK = 1 << 30;
const PAGES_PER_CHUNK = CHUNK / PAGE;
/** File space (sparse; only touched pages cost host memory): 1 TiB. */
const MAX_CHUNKS = 1024;

interface Free {
  start: number;
  end: number;
}

export class MemoryFile {
  private readonly bases: Array<bigint | undefined> = [];
  private readonly views: Array<Uint8Array | undefined> = [];
  /** References per page, one array per chunk (0: free). */
  private readonly refs: Array<Uint32Array | undefined> = [];
  /** Free ranges below `next`, sorted by start, never adjacent (coalesced). */
  private readonly free: Free[] = [];
  private next = 0;
  /** Pages with at least one reference. */
  private used = 0;

  private constructor(readonly fd: HostFd) {}

  private static sandbox: MemoryFile | undefined;

  /**
   * The sandbox's memory file (made on first use): the Sentry's platform maps it, and tmpfs
   * and the page caches keep their pages in it. Throws only if the host refuses a memfd.
   */
  static shared(): MemoryFile {
    if (MemoryFile.sandbox === undefined) {
      const m = MemoryFile.create();
      if (typeof m === 'string') throw new Error(m);
      MemoryFile.sandbox = m;
    }
    return MemoryFile.sandbox;
  }

  static create(): MemoryFile | string {
    const fd = memfdCreate('moat-memory', CHUNK * MAX_CHUNKS);
    if (typeof fd === 'number') return `memory file: memfd_create failed: errno ${-fd}`;
    const mf = new MemoryFile(fd);
    if (mf.base(0) < 0n) return 'memory file: mmap of its first chunk failed';
    return mf;
  }

  /** Bytes of the file that are handed out (the pages some holder references). */
  get handedOutBytes(): number {
    return this.used * PAGE;
  }

  /** Bytes of host memory the file holds (pages touched and not given back). */
  get usedBytes(): number {
    try {
      return fstatSync(this.fd.fd).blocks * 512;
    } catch {
      return this.used * PAGE;
    }
  }

  /** The Sentry's address of chunk `c`, mapping it on first use; -1n when mmap fails. */
  private base(c: number): bigint {
    let b = this.bases[c];
    if (b === undefined) {
      b = mapShared(this.fd, CHUNK, c * CHUNK);
      if (b < 0n) return -1n;
      this.bases[c] = b;
    }
    return b;
  }

  private refArray(c: number): Uint32Array {
    let r = this.refs[c];
    if (r === undefined) {
      r = new Uint32Array(PAGES_PER_CHUNK);
      this.refs[c] = r;
    }
    return r;
  }

  /**
   * Allocates `len` bytes (a page multiple, at most 1 GiB, never across a chunk boundary) of
   * zeroed memory with one reference per page; -1 when the file is full.
   */
  allocate(len: number): number {
    if (len <= 0 || len % PAGE !== 0 || len > CHUNK) return -1;
    let off = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f === undefined || f.end - f.start < len) continue;
      off = f.start;
      if (f.end - f.start === len) this.free.splice(i, 1);
      else f.start += len;
      break;
    }
    if (off < 0) {
      off = this.next;
      const chunkEnd = (Math.floor(off / CHUNK) + 1) * CHUNK;
      if (off + len > chunkEnd) {
        if (off < chunkEnd) this.insertFree(off, chunkEnd);
        off = chunkEnd;
      }
      if (off + len > CHUNK * MAX_CHUNKS) return -1;
      if (this.base(Math.floor(off / CHUNK)) < 0n) return -1;
      this.next = off + len;
    }
    const r = this.refArray(Math.floor(off / CHUNK));
    const p0 = (off % CHUNK) / PAGE;
    r.fill(1, p0, p0 + len / PAGE);
    this.used += len / PAGE;
    return off;
  }

  /** One more reference to every page of [off, off+len). */
  incRef(off: number, len: number): void {
    for (let p = off; p < off + len;) {
      const c = Math.floor(p / CHUNK);
      const r = this.refArray(c);
      const e = Math.min(off + len, (c + 1) * CHUNK);
      for (let i = (p % CHUNK) / PAGE, n = (e - c * CHUNK) / PAGE; i < n; i++)
        r[i] = (r[i] ?? 0) + 1;
      p = e;
    }
  }

  /** Drops a reference to every page of [off, off+len); pages left without one are freed. */
  decRef(off: number, len: number): void {
    let run = -1;
    for (let p = off; p < off + len;) {
      const c = Math.floor(p / CHUNK);
      const r = this.refArray(c);
      const e = Math.min(off + len, (c + 1) * CHUNK);
      const base = c * CHUNK;
      for (let i = (p - base) / PAGE, n = (e - base) / PAGE; i < n; i++) {
        const v = r[i] ?? 0;
        if (v <= 1) {
          r[i] = 0;
          if (v === 1) {
            this.used--;
            if (run < 0) run = base + i * PAGE;
            continue;
          }
        } else r[i] = v - 1;
        if (run >= 0) this.freeRange(run, base + i * PAGE);
        run = -1;
      }
      if (run >= 0) this.freeRange(run, e);
      run = -1;
      p = e;
    }
  }

  /** The references to the page at `off`. */
  refCount(off: number): number {
    return this.refs[Math.floor(off / CHUNK)]?.[(off % CHUNK) / PAGE] ?? 0;
  }

  /** True when every page of [off, off+len) has exactly one reference (its holder's own). */
  exclusive(off: number, len: number): boolean {
    for (let p = off; p < off + len; p += PAGE) if (this.refCount(p) !== 1) return false;
    return true;
  }

  /** Gives the pages' memory back to the host; they read as zeros afterwards. */
  zero(off: number, len: number): void {
    for (let p = off; p < off + len;) {
      const c = Math.floor(p / CHUNK);
      const e = Math.min(off + len, (c + 1) * CHUNK);
      const b = this.base(c);
      if (b >= 0n) discard(b + BigInt(p - c * CHUNK), e - p);
      p = e;
    }
  }

  private freeRange(start: number, end: number): void {
    this.zero(start, end - start);
    this.insertFree(start, end);
  }

  private insertFree(start: number, end: number): void {
    const f = this.free;
    let lo = 0;
    let hi = f.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((f[mid]?.start ?? 0) < start) lo = mid + 1;
      else hi = mid;
    }
    const prev = f[lo - 1];
    const next = f[lo];
    const sameChunk = (a: number, b: number): boolean =>
      Math.floor(a / CHUNK) === Math.floor((b - 1) / CHUNK);
    if (prev !== undefined && prev.end === start && sameChunk(prev.start, end)) {
      prev.end = end;
      if (next !== undefined && next.start === end && sameChunk(prev.start, next.end)) {
        prev.end = next.end;
        f.splice(lo, 1);
      }
      return;
    }
    if (next !== undefined && next.start === end && sameChunk(start, next.end)) {
      next.start = start;
      return;
    }
    f.splice(lo, 0, { start, end });
  }

  /**
   * Copies `len` bytes from one range to another (the destination freshly allocated, so
   * zero): only the parts of the source that hold data are copied, holes already read as
   * zeros at the destination and stay unallocated.
   */
  copy(from: number, to: number, len: number): void {
    const ext = dataExtents(this.fd, from, len);
    const parts: Array<[number, number]> = typeof ext === 'number' ? [[from, from + len]] : ext;
    for (const [s0, e0] of parts) {
      let done = 0;
      const n0 = e0 - s0;
      while (done < n0) {
        const s = this.at(s0 + done);
        const d = this.at(to + (s0 - from) + done);
        const n = Math.min(n0 - done, s.room, d.room);
        d.view.set(s.view.subarray(s.index, s.index + n), d.index);
        done += n;
      }
    }
  }

  /** The view and index for `off`, valid for the rest of its 1 GiB chunk. */
  at(off: number): { view: Uint8Array; index: number; room: number } {
    const c = Math.floor(off / CHUNK);
    let v = this.views[c];
    if (v === undefined) {
      const b = this.base(c);
      // Offsets come from allocate(), which maps the chunk first.
      if (b < 0n) throw new Error(`memory file: chunk ${c} is not mapped`);
      v = new Uint8Array(viewOf(b, CHUNK));
      this.views[c] = v;
    }
    const index = off - c * CHUNK;
    return { view: v, index, room: CHUNK - index };
  }
}
