// A memory object's pages in the memory file, by page index: the data of a tmpfs file, the
// pages of a shared anonymous mapping or System V segment, the cached pages of a mapped file
// of another file system. The cache owns one reference per page; every address space that
// maps a page takes its own (see memory_manager.ts), so a page outlives the cache's hold on
// it as long as it is mapped.
//
// It must never hand out a page index twice with different memory, and every page it drops
// loses the cache's reference exactly once.

import type { MemoryFile } from './memory_file.js';
import { PAGE } from './memory_file.js';

/** Largest run allocated in one piece. */
const MAX_RUN_PAGES = 512;

export class PageCache {
  private readonly pages = new Map<number, number>();
  /** Pages written through a shared mapping and not yet written back. */
  readonly dirty = new Set<number>();
  /** Counts pages against a limit (tmpfs size=): false refuses the allocation (ENOSPC). */
  limiter?: { charge(pages: number): boolean };
  /** Address spaces mapping the object, with how many of their VMAs do. */
  readonly mappers = new Map<Invalidator, number>();

  constructor(readonly mf: MemoryFile) {}

  /** Pages held. */
  get count(): number {
    return this.pages.size;
  }

  get(pg: number): number | undefined {
    return this.pages.get(pg);
  }

  /**
   * Makes [pg, pg+n) present. Each run of missing pages is allocated (zeroed) and handed to
   * `fill(off, pos, len)` to read the object's bytes into it. 0, or -12 (ENOMEM) when the
   * memory file is full, or what `fill` answers.
   */
  populate(
    pg: number,
    n: number,
    fill?: (off: number, pos: number, len: number) => number,
  ): number {
    let i = pg;
    const end = pg + n;
    while (i < end) {
      if (this.pages.has(i)) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < end && j - i < MAX_RUN_PAGES && !this.pages.has(j)) j++;
      const len = (j - i) * PAGE;
      if (this.limiter !== undefined && !this.limiter.charge(j - i)) return -28;
      const off = this.mf.allocate(len);
      if (off < 0) {
        this.limiter?.charge(-(j - i));
        return -12;
      }
      if (fill !== undefined) {
        const r = fill(off, i * PAGE, len);
        if (r < 0) {
          this.mf.decRef(off, len);
          this.limiter?.charge(-(j - i));
          return r;
        }
      }
      for (let k = i; k < j; k++) this.pages.set(k, off + (k - i) * PAGE);
      i = j;
    }
    return 0;
  }

  /** Calls `f(pg, count, off)` for each run of present pages of [pg, pg+n) contiguous in the file. */
  runs(pg: number, n: number, f: (pg: number, count: number, off: number) => void): void {
    let i = pg;
    const end = pg + n;
    while (i < end) {
      const off = this.pages.get(i);
      if (off === undefined) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < end && this.pages.get(j) === off + (j - i) * PAGE) j++;
      f(i, j - i, off);
      i = j;
    }
  }

  /** Drops the pages of [pg, pg+n) (hole punch, truncation); mappings of them are invalidated. */
  drop(pg: number, n: number): void {
    const before = this.pages.size;
    this.dropPages(pg, n);
    this.limiter?.charge(this.pages.size - before);
    for (const m of this.mappers.keys()) m.invalidate(this, pg, pg + n);
  }

  private dropPages(pg: number, n: number): void {
    if (n > this.pages.size) {
      for (const [k, off] of [...this.pages]) {
        if (k >= pg && k < pg + n) {
          this.mf.decRef(off, PAGE);
          this.pages.delete(k);
          this.dirty.delete(k);
        }
      }
      return;
    }
    for (let k = pg; k < pg + n; k++) {
      const off = this.pages.get(k);
      if (off === undefined) continue;
      this.mf.decRef(off, PAGE);
      this.pages.delete(k);
      this.dirty.delete(k);
    }
  }

  /** Drops every page at or past `pg` (truncation); mappings of them are invalidated. */
  dropFrom(pg: number): void {
    const before = this.pages.size;
    for (const [k, off] of [...this.pages]) {
      if (k < pg) continue;
      this.mf.decRef(off, PAGE);
      this.pages.delete(k);
      this.dirty.delete(k);
    }
    this.limiter?.charge(this.pages.size - before);
    for (const m of this.mappers.keys()) m.invalidate(this, pg, Number.MAX_SAFE_INTEGER);
  }

  /** Highest page index held plus one (0 when empty). */
  extent(): number {
    let m = 0;
    for (const k of this.pages.keys()) if (k + 1 > m) m = k + 1;
    return m;
  }

  /**
   * Copies bytes of the object at `pos` into `dst` for the pages present; absent pages read
   * as zeros. Returns dst.length.
   */
  read(dst: Uint8Array, pos: number): number {
    let done = 0;
    while (done < dst.length) {
      const p = pos + done;
      const pg = Math.floor(p / PAGE);
      const inPage = p - pg * PAGE;
      const n = Math.min(PAGE - inPage, dst.length - done);
      const off = this.pages.get(pg);
      if (off === undefined) dst.fill(0, done, done + n);
      else {
        const loc = this.mf.at(off + inPage);
        dst.set(loc.view.subarray(loc.index, loc.index + n), done);
      }
      done += n;
    }
    return dst.length;
  }

  /** Copies `src` into the object at `pos`, making pages present; 0 or -ENOMEM. */
  write(src: Uint8Array, pos: number): number {
    if (src.length === 0) return 0;
    const first = Math.floor(pos / PAGE);
    const last = Math.floor((pos + src.length - 1) / PAGE);
    const r = this.populate(first, last - first + 1);
    if (r < 0) return r;
    this.update(src, pos);
    return 0;
  }

  /** Copies `src` into the pages of [pos, pos+len) that are present; absent ones are skipped. */
  update(src: Uint8Array, pos: number): void {
    let done = 0;
    while (done < src.length) {
      const p = pos + done;
      const pg = Math.floor(p / PAGE);
      const inPage = p - pg * PAGE;
      const n = Math.min(PAGE - inPage, src.length - done);
      const off = this.pages.get(pg);
      if (off !== undefined) {
        const loc = this.mf.at(off + inPage);
        loc.view.set(src.subarray(done, done + n), loc.index);
      }
      done += n;
    }
  }

  /** Zeroes [pos, pos+len) of the pages present (a partial page at a truncation point). */
  zeroRange(pos: number, len: number): void {
    if (len <= 0) return;
    this.update(new Uint8Array(len), pos);
  }

  clear(): void {
    for (const off of this.pages.values()) this.mf.decRef(off, PAGE);
    this.limiter?.charge(-this.pages.size);
    this.pages.clear();
    this.dirty.clear();
  }
}

/** An address space that maps pages of a cache and must forget them when they are dropped. */
export interface Invalidator {
  /** Pages [fromPg, toPg) of `cache` are gone: unmap them wherever they are mapped. */
  invalidate(cache: PageCache, fromPg: number, toPg: number): void;
}

/**
 * A memory object that address spaces map: its pages are a PageCache; `fill` reads what
 * backs them (a file through its Gofer; nothing for anonymous and tmpfs memory, which start
 * as zeros); `sync` writes pages dirtied through shared mappings back.
 */
export interface Mappable {
  readonly cache: PageCache;
  /** Reads the object's bytes [pos, pos+len) into fresh memory at `off`; 0 or -errno. */
  fill?(off: number, pos: number, len: number): number;
  /** A mapping began (`sharedWrite`: MAP_SHARED with PROT_WRITE possible). */
  attach(sharedWrite: boolean): void;
  /** A mapping ended. */
  detach(sharedWrite: boolean): void;
  /** The object's size in bytes: pages past it fault with SIGBUS (absent: no end). */
  size?(): number;
  /** Writes dirty pages of [pos, pos+len) back; 0 or -errno. */
  sync?(pos: number, len: number): number;
  /** The device and inode /proc/PID/maps shows, and the path. */
  readonly mapIdentity?: { dev: string; ino: number; path: string };
}
