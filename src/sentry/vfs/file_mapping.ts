// Mapped files of file systems whose bytes do not live in the memory file (Gofer files, host
// files): a page cache per file while it is mapped, filled from the file on first touch and
// written back (only the pages written through a shared mapping) on msync, fsync, and when
// the last mapping goes. While a file is mapped, read(2) and write(2) of it stay coherent
// with the cache: a write updates the cached pages, a read first writes dirty pages back.
// One cache per file (file system and inode number), whatever name or description mapped it.
//
// It must never write back past the file's current size, never drop a dirty page without
// writing it, and never hold a file open after its last mapping is gone.

import { Errno } from '../../abi/linux/errno.js';
import { S_IFMT, S_IFREG } from '../../abi/linux/file.js';
import type { MemoryFile } from '../mm/memory_file.js';
import { PAGE } from '../mm/memory_file.js';
import { PageCache, type Mappable } from '../mm/page_cache.js';
import type { FileDescription } from './file_description.js';
import type { Filesystem, Inode } from './inode.js';

/** An inode whose data already is memory-file pages (tmpfs): it is its own mappable. */
export function isMappableInode(i: Inode): i is Inode & Mappable {
  return (i as Partial<Mappable>).cache instanceof PageCache;
}

const caches = new Map<Filesystem, Map<number, FileCache>>();
/** Mapped files right now: the read/write hooks check this first and cost nothing at 0. */
let live = 0;

class FileCache implements Mappable {
  readonly cache: PageCache;
  private maps = 0;
  private reader: FileDescription | null = null;
  private writer: FileDescription | null = null;

  constructor(
    mf: MemoryFile,
    private readonly fs: Filesystem,
    private readonly ino: number,
  ) {
    this.cache = new PageCache(mf);
  }

  /** Keeps `f` to read and write through (a reference of the cache's own). */
  note(f: FileDescription): void {
    if (this.reader === null && f.readable) {
      f.incRef();
      this.reader = f;
    }
    if (this.writer === null && f.writable) {
      f.incRef();
      this.writer = f;
    }
  }

  fill(off: number, pos: number, len: number): number {
    const f = this.reader;
    if (f?.impl === null || f === null) return -Errno.EACCES;
    let done = 0;
    while (done < len) {
      const loc = this.cache.mf.at(off + done);
      const n = f.impl.read(loc.view.subarray(loc.index, loc.index + len - done), pos + done);
      if (n < 0) return n;
      if (n === 0) break;
      done += n;
    }
    return 0;
  }

  size(): number {
    const st = (this.reader ?? this.writer)?.stat();
    return st === undefined || typeof st === 'number' ? Number.MAX_SAFE_INTEGER : Number(st.size);
  }

  attach(): void {
    this.maps++;
  }

  detach(): void {
    this.maps--;
    if (this.maps > 0) return;
    this.sync(0, Number.MAX_SAFE_INTEGER);
    this.cache.clear();
    this.reader?.decRef();
    this.writer?.decRef();
    this.reader = null;
    this.writer = null;
    const byIno = caches.get(this.fs);
    if (byIno?.get(this.ino) === this) {
      byIno.delete(this.ino);
      live--;
      if (byIno.size === 0) caches.delete(this.fs);
    }
  }

  sync(pos: number, len: number): number {
    if (this.cache.dirty.size === 0) return 0;
    const f = this.writer;
    if (f?.impl === null || f === null) return -Errno.EBADF;
    const st = f.stat();
    if (typeof st === 'number') return st;
    const size = Number(st.size);
    const first = Math.floor(pos / PAGE);
    const last = Math.ceil(Math.min(pos + len, Number.MAX_SAFE_INTEGER) / PAGE);
    const pages = [...this.cache.dirty].filter((p) => p >= first && p < last).sort((a, b) => a - b);
    for (const pg of pages) {
      this.cache.dirty.delete(pg);
      const at = pg * PAGE;
      if (at >= size) continue;
      const n = Math.min(PAGE, size - at);
      const buf = new Uint8Array(n);
      this.cache.read(buf, at);
      const w = f.impl.write(buf, at);
      if (w < 0) {
        this.cache.dirty.add(pg);
        return w;
      }
    }
    return 0;
  }
}

/** The memory object to map for `f`: -ENODEV for what cannot be mapped (pipes, directories…). */
export function fileMappable(f: FileDescription, mf: MemoryFile): Mappable | number {
  const inode = f.inode;
  if (isMappableInode(inode)) return inode;
  if ((inode.type & S_IFMT) !== S_IFREG || f.impl === null) return -Errno.ENODEV;
  const st = f.stat();
  if (typeof st === 'number') return st;
  const ino = Number(st.ino);
  let byIno = caches.get(inode.fs);
  if (byIno === undefined) {
    byIno = new Map();
    caches.set(inode.fs, byIno);
  }
  let c = byIno.get(ino);
  if (c === undefined) {
    c = new FileCache(mf, inode.fs, ino);
    byIno.set(ino, c);
    live++;
  }
  c.note(f);
  return c;
}

function cacheOf(f: FileDescription): FileCache | undefined {
  const byIno = caches.get(f.inode.fs);
  if (byIno === undefined) return undefined;
  const st = f.stat();
  if (typeof st === 'number') return undefined;
  return byIno.get(Number(st.ino));
}

/** Before a read of [pos, pos+len) of `f`: pages written through mappings reach the file. */
export function beforeFileRead(f: FileDescription, pos: number, len: number): void {
  if (live === 0 || isMappableInode(f.inode)) return;
  cacheOf(f)?.sync(pos, len);
}

/** After `data` was written at `pos` of `f`: cached pages show it. */
export function afterFileWrite(f: FileDescription, data: Uint8Array, pos: number): void {
  if (live === 0 || isMappableInode(f.inode)) return;
  const c = cacheOf(f);
  if (c === undefined) return;
  c.cache.update(data, pos);
}

/** fsync(2) of a mapped file: its dirty pages are written back first. */
export function syncFile(f: FileDescription): number {
  if (live === 0 || isMappableInode(f.inode)) return 0;
  return cacheOf(f)?.sync(0, Number.MAX_SAFE_INTEGER) ?? 0;
}
