// The memory file: one memfd that backs all application memory of a sandbox. The Sentry maps
// it into itself once and reads and writes application memory through typed-array views of
// that mapping (no system call per access); platforms map ranges of the same file into the
// application's address space. This module allocates and frees page ranges of it.
//
// It must never hand out a range twice, and every freed range is punched out (MADV_REMOVE)
// so that it reads as zeros when it is handed out again. Pages that several address spaces
// map (MAP_SHARED memory after fork) carry extra references and are freed with the last.

import type { HostFd } from '../../host/fd.js';
import { dataExtents, discard, mapShared, memfdCreate, viewOf } from '../../host/memory.js';

export const PAGE = 4096;
const CHUNK = 1 << 30; // one view per GiB: V8 caps a single ArrayBuffer's length
const CHUNKS = 16;

export class MemoryFile {
  private readonly views: Array<Uint8Array | undefined> = [];
  private readonly free: Array<[number, number]> = []; // [offset, length], page-aligned
  private next = 0;
  /** Page offset → references beyond the first, for pages that more than one mapping holds. */
  private readonly extraRefs = new Map<number, number>();

  private constructor(
    readonly fd: HostFd,
    private readonly base: bigint,
  ) {}

  static create(): MemoryFile | string {
    const fd = memfdCreate('moat-memory', CHUNK * CHUNKS);
    if (typeof fd === 'number') return `memory file: memfd_create failed: errno ${-fd}`;
    const base = mapShared(fd, CHUNK * CHUNKS, 0);
    if (base < 0n) return `memory file: mmap failed: errno ${-base}`;
    return new MemoryFile(fd, base);
  }

  /** Allocates `len` bytes (a page multiple, at most 1 GiB) of zeroed memory; -1 when full. */
  allocate(len: number): number {
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i];
      if (r === undefined || r[1] < len) continue;
      const off = r[0];
      if (r[1] === len) this.free.splice(i, 1);
      else this.free[i] = [off + len, r[1] - len];
      return off;
    }
    if (len > CHUNK) return -1;
    let off = this.next;
    const chunkEnd = (Math.floor(off / CHUNK) + 1) * CHUNK;
    if (off + len > chunkEnd) {
      if (off < chunkEnd) this.free.push([off, chunkEnd - off]);
      off = chunkEnd;
    }
    if (off + len > CHUNK * CHUNKS) return -1;
    this.next = off + len;
    return off;
  }

  /** One more reference to every page of [off, off+len): a second mapping of shared memory. */
  share(off: number, len: number): void {
    for (let p = off; p < off + len; p += PAGE)
      this.extraRefs.set(p, (this.extraRefs.get(p) ?? 0) + 1);
  }

  /** Drops a reference to a range; pages nobody else holds go back to the pool, discarded. */
  release(off: number, len: number): void {
    if (len <= 0) return;
    if (this.extraRefs.size === 0) {
      this.freeRange(off, len);
      return;
    }
    let run = -1;
    for (let p = off; p < off + len; p += PAGE) {
      const extra = this.extraRefs.get(p);
      if (extra === undefined) {
        if (run < 0) run = p;
        continue;
      }
      if (extra === 1) this.extraRefs.delete(p);
      else this.extraRefs.set(p, extra - 1);
      if (run >= 0) this.freeRange(run, p - run);
      run = -1;
    }
    if (run >= 0) this.freeRange(run, off + len - run);
  }

  private freeRange(off: number, len: number): void {
    discard(this.base + BigInt(off), len);
    this.free.push([off, len]);
  }

  /**
   * Copies `len` bytes from one range to a freshly allocated (zero) one: fork's copy of
   * private memory. Only the parts of the source that hold data are copied: pages never
   * written are holes of the memfd and already read as zeros at the destination.
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
      v = new Uint8Array(viewOf(this.base + BigInt(c * CHUNK), CHUNK));
      this.views[c] = v;
    }
    const index = off - c * CHUNK;
    return { view: v, index, room: CHUNK - index };
  }
}
