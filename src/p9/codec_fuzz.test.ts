// Fixed-budget fuzz of the 9P2000.L decoder: random bytes, truncations and single-byte
// mutations of valid frames. The decoder must return a Msg or a CodecError — never throw —
// and whatever it accepts must re-encode to the same bytes. Deterministic seed; never touches
// the host.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecError, decode, encode, type Msg } from './codec.js';

const MSIZE = 8192;

/** xorshift32: reproducible randomness. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const seeds: Msg[] = [
  { type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' },
  { type: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'root', aname: '', nUname: 0 },
  { type: 'Twalk', tag: 2, fid: 0, newfid: 1, wnames: ['etc', 'passwd'] },
  { type: 'Rwalk', tag: 2, wqids: [{ type: 0x80, version: 0, path: 5n }] },
  { type: 'Tlcreate', tag: 3, fid: 1, name: 'x', flags: 0o102, mode: 0o644, gid: 0 },
  { type: 'Rread', tag: 4, data: new Uint8Array([1, 2, 3, 4, 5]) },
  { type: 'Twrite', tag: 5, fid: 1, offset: 10n, data: new Uint8Array([9, 9]) },
  { type: 'Rlerror', tag: 6, ecode: 2 },
  {
    type: 'Tgetlock',
    tag: 7,
    fid: 1,
    locktype: 0,
    start: 0n,
    length: 10n,
    procId: 1,
    clientId: 'c',
  },
  { type: 'Trenameat', tag: 8, olddirfid: 1, oldname: 'a', newdirfid: 2, newname: 'b' },
];

function check(frame: Uint8Array): void {
  let out: Msg | CodecError;
  try {
    out = decode(frame, MSIZE);
  } catch (e) {
    assert.fail(`decode threw on ${Buffer.from(frame).toString('hex')}: ${String(e)}`);
  }
  if (out instanceof CodecError) return;
  const again = encode(out);
  assert.ok(again instanceof Uint8Array);
  assert.deepEqual(Buffer.from(again), Buffer.from(frame));
}

void test('fuzz: random frames, truncations and mutations never throw', () => {
  const next = rng(0x9e3779b9);
  let n = 0;
  for (const m of seeds) {
    const b = encode(m);
    assert.ok(b instanceof Uint8Array);
    for (let cut = 0; cut <= b.length; cut++) {
      const t = b.slice(0, cut);
      if (cut >= 4) new DataView(t.buffer).setUint32(0, cut, true);
      check(t);
      check(b.slice(0, cut));
      n += 2;
    }
    for (let i = 0; i < 2000; i++) {
      const t = b.slice();
      const flips = 1 + (next() % 3);
      for (let k = 0; k < flips; k++) t[next() % t.length] = next() & 0xff;
      if (next() % 2 === 0) new DataView(t.buffer).setUint32(0, t.length, true);
      check(t);
      n++;
    }
  }
  for (let i = 0; i < 20000; i++) {
    const len = next() % 64;
    const t = new Uint8Array(len);
    for (let k = 0; k < len; k++) t[k] = next() & 0xff;
    if (len >= 5) {
      new DataView(t.buffer).setUint32(0, len, true);
      t[4] = [7, 9, 13, 25, 41, 100, 104, 110, 111, 117][next() % 10] ?? 0;
    }
    check(t);
    n++;
  }
  assert.ok(n > 40000);
});
