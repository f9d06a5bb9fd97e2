// The vDSO's calibration against a made-up TSC and host clock: off until measured, then the
// page's time follows the host's, never steps back, and a clock that jumps is distrusted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFile } from '../mm/memory_file.js';
import { Vdso } from './vdso.js';
import { VVAR } from '../loader/vdso_image.js';

/** A fake machine: a TSC at `ghz` cycles per ns, read beside a host clock the test moves. */
function machine(ghz: number) {
  const m = { host: 1_000_000_000n, cycles: 0n, jitter: 0n };
  const src = {
    readCycles: () => BigInt(Math.round(Number(m.host) * ghz)) + m.jitter,
    hostNs: () => m.host,
    bootHostNs: 1_000_000_000n,
    realtimeOffsetNs: 1_700_000_000_000_000_000n,
    tscInvariant: true,
  };
  return { m, src };
}

function newMemoryFile(): MemoryFile {
  const mf = MemoryFile.create();
  assert.ok(typeof mf !== 'string', typeof mf === 'string' ? mf : '');
  return mf;
}

/** What the image would compute from the page at TSC `c`, for clock `id`. */
function shown(mf: MemoryFile, vd: Vdso, c: bigint, id: number): bigint | null {
  const page = pageOf(mf, vd);
  if (page.getUint32(VVAR.enabled, true) === 0) return null;
  const base = page.getBigUint64(VVAR.tscBase, true);
  const mult = page.getBigUint64(VVAR.mult, true);
  const delta = c > base ? c - base : 0n;
  return page.getBigInt64(VVAR.base + id * 8, true) + ((delta * mult) >> 32n);
}

function pageOf(mf: MemoryFile, vd: Vdso): DataView {
  const at = mf.at(vd.paramPageOffset);
  return new DataView(at.view.buffer, at.view.byteOffset + at.index, 4096);
}

test('vdso clock: off until 5 ms are measured, then tracks the host clock without stepping back', () => {
  const mf = newMemoryFile();
  const { m, src } = machine(2.5);
  const vd = new Vdso(mf, src);
  assert.equal(vd.fast, false);
  vd.update(); // first sample
  m.host += 2_000_000n;
  vd.update();
  assert.equal(vd.fast, false, 'not after 2 ms');
  m.host += 4_000_000n;
  vd.update();
  assert.equal(vd.fast, true, 'on after 6 ms');
  let last = -1n;
  for (let i = 0; i < 200; i++) {
    m.host += 10_000_000n;
    const c = src.readCycles();
    const before = shown(mf, vd, c, 1);
    assert.ok(before !== null);
    assert.ok(before >= last, 'the page ran backwards between updates');
    vd.update();
    const after = shown(mf, vd, c, 1);
    assert.ok(after !== null && after >= before, 'an update stepped the clock back');
    last = after;
    const want = m.host - src.bootHostNs;
    assert.ok(after - want < 1000n && want - after < 1000n, `monotonic ${after} vs host ${want}`);
    const real = shown(mf, vd, c, 0);
    assert.equal(real, (after ?? 0n) + src.realtimeOffsetNs);
  }
});

test('vdso clock: a TSC read late (jitter) is slewed out, and a wild disagreement turns it off', () => {
  const mf = newMemoryFile();
  const { m, src } = machine(3);
  const vd = new Vdso(mf, src);
  vd.update();
  m.host += 10_000_000n;
  vd.update();
  assert.equal(vd.fast, true);
  // The page runs ahead by 30 µs (a TSC read late): the next updates never step it back.
  m.jitter = 90_000n;
  m.host += 10_000_000n;
  vd.update();
  m.jitter = 0n;
  let prev = shown(mf, vd, src.readCycles(), 1) ?? 0n;
  for (let i = 0; i < 50; i++) {
    m.host += 10_000_000n;
    const c = src.readCycles();
    const s = shown(mf, vd, c, 1) ?? 0n;
    assert.ok(s >= prev);
    vd.update();
    prev = shown(mf, vd, c, 1) ?? 0n;
  }
  const err = prev - (m.host - src.bootHostNs);
  assert.ok(err < 2000n && err > -2000n, `still ${err} ns off after 0.5 s`);
  // The TSC jumps by a second: distrusted, every call goes to the system call from now on.
  m.jitter = 3_000_000_000n;
  m.host += 10_000_000n;
  vd.update();
  assert.equal(vd.fast, false);
  assert.equal(pageOf(mf, vd).getUint32(VVAR.enabled, true), 0);
});

test('vdso clock: a CPU without an invariant TSC never turns the fast path on', () => {
  const mf = newMemoryFile();
  const { m, src } = machine(2);
  const vd = new Vdso(mf, { ...src, tscInvariant: false });
  for (let i = 0; i < 5; i++) {
    vd.tick(m.host);
    m.host += 20_000_000n;
  }
  assert.equal(vd.fast, false);
});
