// The vDSO and its parameter page, as the kernel keeps them: one pinned memory object in the
// memory file (page 0 the parameters, then the image of loader/vdso_image.ts) that every
// process maps — the parameter page shared and read-only ("[vvar]"), the image private
// ("[vdso]", copy-on-write if a debugger writes to it) — and the clock calibration that keeps
// the page current.
//
// The calibration: the Sentry reads the TSC (through the platform) beside the host's monotonic
// clock, which is the Sentry's own time source; the rate is measured over the whole time since
// the first sample, so it sharpens as the sandbox lives. Each update (every ~10 ms of system
// calls) re-bases the page at the current TSC without a step back: a page that ran ahead is
// slowed until the Sentry's clock catches up, one behind steps forward. The TSC path stays off
// (every call goes to the trapped system call) until the first 5 ms have been measured, on CPUs
// without an invariant TSC, and for good if the two clocks ever disagree wildly.
//
// It must never let the page's times run backwards, and never publish a half-written page
// (the sequence word is odd while it is written; the image retries).

import type { MemoryFile } from '../mm/memory_file.js';
import { AnonObject } from '../mm/anon_object.js';
import {
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  type MemoryManager,
} from '../mm/memory_manager.js';
import { buildVdsoImage, VDSO_CLOCKS, VDSO_PAGE, VVAR } from '../loader/vdso_image.js';

/** How often the page is re-based while the application makes system calls. */
const UPDATE_NS = 10_000_000n;
/** The TSC path is used once the rate has been measured over this long. */
const CALIBRATE_NS = 5_000_000n;
/** A page ahead of the Sentry's clock is slowed to meet it over this long. */
const SLEW_NS = 100_000_000n;
/** Past this disagreement the TSC is not trusted again. */
const DISTRUST_NS = 50_000_000n;
const REALTIME_CLOCKS = new Set<number>([0, 5]);

interface Sample {
  cycles: bigint;
  hostNs: bigint;
}

export interface VdsoClockSource {
  /** The host CPU's TSC, or undefined when the platform cannot read it. */
  readCycles?: () => bigint;
  /** The host's monotonic clock (ns): process.hrtime.bigint(). */
  hostNs: () => bigint;
  /** Host monotonic ns at the sandbox's boot: monotonic = host - this. */
  bootHostNs: bigint;
  /** Realtime = monotonic + this. */
  realtimeOffsetNs: bigint;
  /** The CPU has an invariant TSC, synchronised across CPUs (constant_tsc, nonstop_tsc). */
  tscInvariant: boolean;
}

export class Vdso {
  private readonly obj: AnonObject;
  private readonly u32: Uint32Array;
  private readonly u64: BigUint64Array;
  readonly imageBytes: number;
  /** The parameter page's offset in the memory file. */
  readonly paramPageOffset: number;
  private first: Sample | undefined;
  private enabled = false;
  private distrusted = false;
  private tscBase = 0n;
  private mult = 0n;
  private monoBase = 0n;
  /** Host ns when the page is next due for an update. */
  due = 0n;

  constructor(
    mf: MemoryFile,
    private readonly clock: VdsoClockSource,
  ) {
    const image = buildVdsoImage();
    this.imageBytes = image.bytes.length;
    this.obj = new AnonObject(mf, VDSO_PAGE + this.imageBytes);
    this.obj.pinned = true;
    const pages = 1 + this.imageBytes / VDSO_PAGE;
    if (this.obj.cache.populate(0, pages) < 0) throw new Error('vdso: memory file full at boot');
    const vvarOff = this.obj.cache.get(0);
    if (vvarOff === undefined) throw new Error('vdso: no parameter page');
    this.paramPageOffset = vvarOff;
    for (let pg = 1; pg < pages; pg++) {
      const off = this.obj.cache.get(pg);
      if (off === undefined) throw new Error('vdso: no image page');
      const at = mf.at(off);
      const from = (pg - 1) * VDSO_PAGE;
      at.view.set(image.bytes.subarray(from, from + VDSO_PAGE), at.index);
    }
    const at = mf.at(vvarOff);
    const buf = at.view.buffer;
    const byteOff = at.view.byteOffset + at.index;
    this.u32 = new Uint32Array(buf, byteOff, VDSO_PAGE / 4);
    this.u64 = new BigUint64Array(buf, byteOff, VDSO_PAGE / 8);
    // The CPU table is zero until setCpus: every host CPU is the sandbox's CPU 0.
    if (clock.readCycles === undefined || !clock.tscInvariant) this.distrusted = true;
  }

  /**
   * The sandbox's CPU number for each host CPU the run loop's lanes use (`hostCpus[i]` is the
   * sandbox's CPU i); every other host CPU reads as 0.
   */
  setCpus(hostCpus: readonly number[]): void {
    const table = new Uint8Array(
      this.u32.buffer,
      this.u32.byteOffset + VVAR.cpuTable,
      VVAR.cpuTableSize,
    );
    table.fill(0);
    hostCpus.forEach((h, i) => {
      if (h >= 0 && h < VVAR.cpuTableSize) table[h] = i;
    });
  }

  /** Whether the TSC path is on (tests, /proc). */
  get fast(): boolean {
    return this.enabled;
  }

  /**
   * Maps the parameter page and the image into `mm` below its mmap area; the image's address
   * (AT_SYSINFO_EHDR), or -errno.
   */
  map(mm: MemoryManager): bigint {
    const total = BigInt(VDSO_PAGE + this.imageBytes);
    const vvar = mm.mmap(0n, total, PROT_READ, MAP_SHARED, '[vvar]', {
      obj: this.obj,
      objOff: 0,
      maxProt: PROT_READ,
    });
    if (vvar < 0n) return vvar;
    const image = vvar + BigInt(VDSO_PAGE);
    const r = mm.mmap(
      image,
      BigInt(this.imageBytes),
      PROT_READ | PROT_EXEC,
      MAP_PRIVATE | MAP_FIXED,
      '[vdso]',
      {
        obj: this.obj,
        objOff: VDSO_PAGE,
        maxProt: PROT_READ | PROT_WRITE | PROT_EXEC,
      },
    );
    if (r < 0n) {
      mm.munmap(vvar, total);
      return r;
    }
    return image;
  }

  /** Re-bases the page when due (called with the host time after system calls). */
  tick(hostNow: bigint): void {
    if (hostNow < this.due || this.distrusted) return;
    this.due = hostNow + (this.enabled ? UPDATE_NS : 1_000_000n);
    this.update();
  }

  private sample(): Sample | undefined {
    const read = this.clock.readCycles;
    if (read === undefined) return undefined;
    let best: Sample | undefined;
    let bestGap = -1n;
    for (let i = 0; i < 3; i++) {
      const h0 = this.clock.hostNs();
      const c = read();
      const h1 = this.clock.hostNs();
      const gap = h1 - h0;
      if (bestGap < 0n || gap < bestGap) {
        bestGap = gap;
        best = { cycles: c, hostNs: h0 + gap / 2n };
      }
    }
    return best;
  }

  /** One calibration step; public for tests. */
  update(): void {
    const s = this.sample();
    if (s === undefined) return;
    if (this.first === undefined) {
      this.first = s;
      return;
    }
    const span = s.hostNs - this.first.hostNs;
    const cycles = s.cycles - this.first.cycles;
    if (span < CALIBRATE_NS || cycles <= 0n) {
      if (cycles <= 0n && span >= CALIBRATE_NS) this.distrust();
      return;
    }
    const rate = (span << 32n) / cycles; // ns per cycle, << 32
    const actual = s.hostNs - this.clock.bootHostNs;
    if (!this.enabled) {
      this.publish(s.cycles, actual, rate);
      return;
    }
    const shown = this.monoBase + (((s.cycles - this.tscBase) * this.mult) >> 32n);
    const err = actual - shown;
    if (err > DISTRUST_NS || err < -DISTRUST_NS) {
      this.distrust();
      return;
    }
    if (err >= 0n) this.publish(s.cycles, actual, rate);
    else this.publish(s.cycles, shown, (rate * (SLEW_NS + err)) / SLEW_NS);
  }

  private publish(tsc: bigint, mono: bigint, mult: bigint): void {
    this.tscBase = tsc;
    this.monoBase = mono;
    this.mult = mult;
    const seq = (this.u32[VVAR.seq / 4] ?? 0) + 1;
    Atomics.store(this.u32, VVAR.seq / 4, seq | 1);
    Atomics.store(this.u64, VVAR.tscBase / 8, tsc);
    Atomics.store(this.u64, VVAR.mult / 8, mult);
    for (const id of VDSO_CLOCKS) {
      const v = REALTIME_CLOCKS.has(id) ? mono + this.clock.realtimeOffsetNs : mono;
      Atomics.store(this.u64, VVAR.base / 8 + id, BigInt.asUintN(64, v));
    }
    Atomics.store(this.u32, VVAR.enabled / 4, 1);
    Atomics.store(this.u32, VVAR.seq / 4, (seq | 1) + 1);
    this.enabled = true;
  }

  private distrust(): void {
    this.distrusted = true;
    this.enabled = false;
    Atomics.store(this.u32, VVAR.enabled / 4, 0);
  }
}
