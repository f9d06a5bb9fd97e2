// The vDSO image: read by binutils as the shared object it claims to be, and its code run for
// real (in this process, over a parameter page the test writes) with each kind of answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mapCodeAt, nativeFunction, unmap, viewOf } from '../../host/memory.js';
import { buildVdsoImage, VDSO_PAGE, VVAR } from './vdso_image.js';

test('vdso image: readelf sees a shared object with the four functions and their aliases', (t) => {
  const img = buildVdsoImage();
  assert.equal(img.bytes.length % VDSO_PAGE, 0);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-vdso-'));
  try {
    const f = path.join(dir, 'vdso.so');
    fs.writeFileSync(f, img.bytes);
    let out: string;
    try {
      out = execFileSync('readelf', ['-h', '-d', '-D', '-s', '-W', f], { encoding: 'utf8' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return t.skip('readelf is missing');
      throw e;
    }
    assert.match(out, /Type:\s+DYN/);
    assert.match(out, /Library soname: \[linux-vdso\.so\.1\]/);
    for (const name of ['clock_gettime', 'gettimeofday', 'time', 'getcpu']) {
      assert.match(out, new RegExp(`FUNC\\s+GLOBAL\\s+DEFAULT\\s+\\S+\\s+__vdso_${name}$`, 'm'));
      assert.match(out, new RegExp(`FUNC\\s+WEAK\\s+DEFAULT\\s+\\S+\\s+${name}$`, 'm'));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Maps the parameter page and the image at a free address of this process. */
function loadHere(): { vvar: DataView; base: bigint; len: number } {
  const img = buildVdsoImage();
  const len = VDSO_PAGE + img.bytes.length;
  for (let a = 0x6f0000000000n; a < 0x6f0100000000n; a += 0x10000000n) {
    if (mapCodeAt(a, len) !== a) continue;
    const mem = new Uint8Array(viewOf(a, len));
    mem.set(img.bytes, VDSO_PAGE);
    return { vvar: new DataView(mem.buffer, 0, VDSO_PAGE), base: a, len };
  }
  throw new Error('no free address for the test image');
}

test('vdso image: each function answers from the page, or through the system call', () => {
  const img = buildVdsoImage();
  const { vvar, base, len } = loadHere();
  try {
    const at = (name: string): bigint => base + BigInt(VDSO_PAGE + (img.symbols.get(name) ?? 0));
    const cg = nativeFunction(at('__vdso_clock_gettime'), 'long vt_cg(int, void*)');
    const gtod = nativeFunction(at('__vdso_gettimeofday'), 'long vt_gtod(void*, void*)');
    const tm = nativeFunction(at('__vdso_time'), 'long vt_time(void*)');
    const gc = nativeFunction(at('__vdso_getcpu'), 'long vt_gc(void*, void*, void*)');
    const ts = new BigInt64Array(2);

    // Disabled: the real system call answers (this process's own monotonic clock).
    vvar.setUint32(VVAR.enabled, 0, true);
    assert.equal(Number(cg(1, ts)), 0);
    const host = process.hrtime.bigint();
    const got = (ts[0] ?? 0n) * 1_000_000_000n + (ts[1] ?? 0n);
    assert.ok(
      host - got >= 0n && host - got < 1_000_000_000n,
      `fallback gave ${got}, host ${host}`,
    );
    assert.equal(Number(cg(-1, ts)), -22, 'a bad clock id is the system call’s EINVAL');

    // Enabled with a zero rate: every clock reads its base.
    vvar.setUint32(VVAR.enabled, 1, true);
    vvar.setBigUint64(VVAR.mult, 0n, true);
    vvar.setBigUint64(VVAR.tscBase, 0n, true);
    vvar.setBigInt64(VVAR.base + 0 * 8, 1_700_000_000_123_456_789n, true);
    vvar.setBigInt64(VVAR.base + 1 * 8, 12_345_000_007n, true);
    vvar.setBigInt64(VVAR.base + 7 * 8, 99_000_000_001n, true);
    assert.equal(Number(cg(1, ts)), 0);
    assert.deepEqual([...ts], [12n, 345_000_007n]);
    assert.equal(Number(cg(7, ts)), 0);
    assert.deepEqual([...ts], [99n, 1n]);
    assert.equal(Number(cg(0, ts)), 0);
    assert.deepEqual([...ts], [1_700_000_000n, 123_456_789n]);
    const tv = new BigInt64Array(2);
    const tz = new Int32Array([5, 6]);
    assert.equal(Number(gtod(tv, tz)), 0);
    assert.deepEqual([...tv], [1_700_000_000n, 123_456n]);
    assert.deepEqual([...tz], [0, 0]);
    const tl = new BigInt64Array(1);
    assert.equal(Number(tm(tl)), 1_700_000_000);
    assert.equal(tl[0], 1_700_000_000n);
    assert.equal(Number(tm(null)), 1_700_000_000);

    // A rate of one ns per cycle from TSC 0: the clock is the TSC plus the base, and moves.
    vvar.setBigUint64(VVAR.mult, 1n << 32n, true);
    cg(1, ts);
    const a = (ts[0] ?? 0n) * 1_000_000_000n + (ts[1] ?? 0n);
    cg(1, ts);
    const b = (ts[0] ?? 0n) * 1_000_000_000n + (ts[1] ?? 0n);
    assert.ok(a > 12_345_000_007n && b > a, `TSC path: ${a} then ${b}`);

    // getcpu reads the table at the host CPU's index.
    for (let i = 0; i < VVAR.cpuTableSize; i++) vvar.setUint8(VVAR.cpuTable + i, 3);
    const cpu = new Uint32Array([77]);
    const node = new Uint32Array([77]);
    assert.equal(Number(gc(cpu, node, null)), 0);
    assert.deepEqual([cpu[0], node[0]], [3, 0]);
  } finally {
    unmap(base, len);
  }
});
