// An ordered set of disjoint address ranges [start, end): the VMAs of an address space and
// the pmas (mapped memory-file ranges) beneath them. A sorted array with binary search:
// lookup is O(log n); insertion and removal move the tail of the array (a memmove, fast for
// the thousands of entries real programs make, and neighbours are merged to keep n small).
//
// It must never hold two overlapping ranges: callers split and remove before inserting.

export interface Range {
  start: bigint;
  end: bigint;
}

export class RangeSet<T extends Range> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  all(): readonly T[] {
    return this.items;
  }

  at(i: number): T | undefined {
    return this.items[i];
  }

  /** Index of the first range whose end is above `addr` (items.length: none). */
  lowerBound(addr: bigint): number {
    const a = this.items;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = a[mid];
      if (m !== undefined && m.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The range holding `addr`, if any. */
  find(addr: bigint): T | undefined {
    const r = this.items[this.lowerBound(addr)];
    return r !== undefined && r.start <= addr ? r : undefined;
  }

  /** True when some range meets [start, end). */
  overlaps(start: bigint, end: bigint): boolean {
    const r = this.items[this.lowerBound(start)];
    return r !== undefined && r.start < end;
  }

  /** The ranges meeting [start, end), in order (a copy: the caller may change the set). */
  overlapping(start: bigint, end: bigint): T[] {
    const out: T[] = [];
    for (let i = this.lowerBound(start); i < this.items.length; i++) {
      const r = this.items[i];
      if (r === undefined || r.start >= end) break;
      out.push(r);
    }
    return out;
  }

  insert(r: T): void {
    const i = this.lowerBound(r.start);
    this.items.splice(i, 0, r);
  }

  remove(r: T): void {
    const i = this.lowerBound(r.start);
    if (this.items[i] === r) this.items.splice(i, 1);
  }

  /** Removes every range inside [start, end) (callers split at the bounds first). */
  removeWithin(start: bigint, end: bigint): T[] {
    const i = this.lowerBound(start);
    let j = i;
    while (j < this.items.length) {
      const r = this.items[j];
      if (r === undefined || r.start >= end) break;
      j++;
    }
    return this.items.splice(i, j - i);
  }

  /**
   * Makes `at` a boundary: the range holding it (if `at` is inside) is cut in two, `right`
   * making the upper part from the lower one (the lower keeps its identity).
   */
  splitAt(at: bigint, right: (r: T, at: bigint) => T): void {
    const i = this.lowerBound(at);
    const r = this.items[i];
    if (r === undefined || r.start >= at) return;
    const hi = right(r, at);
    r.end = at;
    this.items.splice(i + 1, 0, hi);
  }

  /** The neighbour just before `r` and just after it. */
  neighbours(r: T): { prev: T | undefined; next: T | undefined } {
    const i = this.lowerBound(r.start);
    return { prev: this.items[i - 1], next: this.items[i + 1] };
  }

  clear(): void {
    this.items = [];
  }
}
