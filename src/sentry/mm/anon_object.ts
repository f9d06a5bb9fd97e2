// Shared anonymous memory: the object behind MAP_SHARED|MAP_ANONYMOUS (and a System V
// segment). Its pages start as zeros and live as long as some mapping (or, for System V, the
// segment itself) holds the object; every mapping of it, in any address space, maps the
// same pages, so a child's writes after fork are its parent's too.
//
// It must never keep pages once nothing holds it.

import type { MemoryFile } from './memory_file.js';
import { PageCache, type Mappable } from './page_cache.js';

export class AnonObject implements Mappable {
  readonly cache: PageCache;
  private maps = 0;
  /** Held by something other than mappings (a System V segment not yet removed). */
  pinned = false;

  constructor(
    mf: MemoryFile,
    private readonly bytes: number,
  ) {
    this.cache = new PageCache(mf);
  }

  size(): number {
    return this.bytes;
  }

  /** Live mappings of the object. */
  get mappings(): number {
    return this.maps;
  }

  attach(): void {
    this.maps++;
  }

  detach(): void {
    this.maps--;
    this.maybeFree();
  }

  maybeFree(): void {
    if (this.maps <= 0 && !this.pinned) this.cache.clear();
  }
}
