// Unit tests of the 9P2000.L codec: known byte layouts, round trips of every message kind,
// and refusal of malformed frames. Never touches the host.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecError, decode, decodeDirents, encode, encodeDirents, type Msg } from './codec.js';
import { SCHEMAS, type FieldKind, type MsgName } from './messages.js';

const MSIZE = 65536;

function sample(kind: FieldKind, i: number): unknown {
  switch (kind) {
    case 'u8':
      return (i * 7) & 0xff;
    case 'u16':
      return (i * 257) & 0xffff;
    case 'u32':
      return (i * 0x01020304) >>> 0;
    case 'u64':
      return BigInt(i) * 0x0102030405060708n;
    case 'str':
      return `name-${i}-é`;
    case 'qid':
      return { type: 0x80, version: i, path: BigInt(i) << 40n };
    case 'wnames':
      return ['a', 'bb', 'ccc'];
    case 'wqids':
      return [{ type: 0, version: 1, path: 2n }];
    case 'data':
      return new Uint8Array([1, 2, 3, i & 0xff]);
  }
}

function sampleMsg(name: MsgName, tag: number): Msg {
  const m: Record<string, unknown> = { type: name, tag };
  SCHEMAS[name].fields.forEach(([f, kind], i) => (m[f] = sample(kind, i + 1)));
  return m as unknown as Msg;
}

void test('every message kind round-trips', () => {
  for (const name of Object.keys(SCHEMAS) as MsgName[]) {
    const m = sampleMsg(name, 42);
    const b = encode(m);
    assert.ok(b instanceof Uint8Array, `${name}: ${b instanceof CodecError ? b.message : ''}`);
    const d = decode(b, MSIZE);
    assert.ok(!(d instanceof CodecError), `${name}: ${d instanceof CodecError ? d.message : ''}`);
    assert.deepEqual(d, m, name);
  }
});

void test('Tversion has the documented layout', () => {
  const b = encode({ type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  assert.ok(b instanceof Uint8Array);
  const want = [21, 0, 0, 0, 100, 0xff, 0xff, 0, 0x20, 0, 0, 8, 0, ...Buffer.from('9P2000.L')];
  assert.deepEqual([...b], want);
});

void test('Twalk layout and the 16-name limit', () => {
  const b = encode({ type: 'Twalk', tag: 1, fid: 1, newfid: 2, wnames: ['x'] });
  assert.ok(b instanceof Uint8Array);
  assert.deepEqual([...b], [20, 0, 0, 0, 110, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0, 0x78]);
  const many = Array.from({ length: 17 }, () => 'a');
  assert.ok(
    encode({ type: 'Twalk', tag: 1, fid: 1, newfid: 2, wnames: many }) instanceof CodecError,
  );
  // Hand-made frame claiming nwname = 17.
  const f = new Uint8Array(17);
  new DataView(f.buffer).setUint32(0, 17, true);
  f[4] = 110;
  f[15] = 17;
  const d = decode(f, MSIZE);
  assert.ok(d instanceof CodecError && /nwname/.test(d.message));
});

void test('frames that are short, long, oversized or of unknown type are refused', () => {
  const good = encode({ type: 'Tclunk', tag: 3, fid: 9 });
  assert.ok(good instanceof Uint8Array);
  assert.ok(decode(good.subarray(0, 10), MSIZE) instanceof CodecError);
  const long = new Uint8Array(good.length + 1);
  long.set(good);
  assert.ok(decode(long, MSIZE) instanceof CodecError);
  // Trailing byte counted in the size field.
  new DataView(long.buffer).setUint32(0, long.length, true);
  const t = decode(long, MSIZE);
  assert.ok(t instanceof CodecError && /trailing/.test(t.message));
  assert.ok(decode(good, 8) instanceof CodecError);
  const unk = good.slice();
  unk[4] = 99;
  assert.ok(decode(unk, MSIZE) instanceof CodecError);
  const tiny = new Uint8Array([3, 0, 0, 0]);
  assert.ok(decode(tiny, MSIZE) instanceof CodecError);
});

void test('strings with NUL or invalid UTF-8 and counts past the end are refused', () => {
  const b = encode({ type: 'Treadlink', tag: 1, fid: 1 });
  assert.ok(b instanceof Uint8Array);
  const rl = encode({ type: 'Rreadlink', tag: 1, target: 'ab' });
  assert.ok(rl instanceof Uint8Array);
  const nul = rl.slice();
  nul[9] = 0;
  assert.ok(decode(nul, MSIZE) instanceof CodecError);
  const bad = rl.slice();
  bad[9] = 0xff;
  assert.ok(decode(bad, MSIZE) instanceof CodecError);
  const rd = encode({ type: 'Rread', tag: 1, data: new Uint8Array(4) });
  assert.ok(rd instanceof Uint8Array);
  new DataView(rd.buffer, rd.byteOffset).setUint32(7, 5, true);
  assert.ok(decode(rd, MSIZE) instanceof CodecError);
  assert.ok(encode({ type: 'Rreadlink', tag: 1, target: 'a\0b' }) instanceof CodecError);
  assert.ok(encode({ type: 'Tclunk', tag: 1, fid: -1 }) instanceof CodecError);
  assert.ok(encode({ type: 'Tclunk', tag: 70000, fid: 1 }) instanceof CodecError);
});

void test('encode refuses a frame over msize', () => {
  const m: Msg = { type: 'Rread', tag: 1, data: new Uint8Array(100) };
  assert.ok(encode(m, 110) instanceof CodecError);
  assert.ok(encode(m, 111) instanceof Uint8Array);
});

void test('dirents round-trip and are packed up to the limit', () => {
  const ents = [0, 1, 2].map((i) => ({
    qid: { type: 0, version: 0, path: BigInt(i) },
    offset: BigInt(i + 1),
    type: 8,
    name: `f${i}`,
  }));
  const all = encodeDirents(ents, 1000);
  assert.equal(all.count, 3);
  assert.deepEqual(decodeDirents(all.data), ents);
  const two = encodeDirents(ents, 2 * 26 + 5);
  assert.equal(two.count, 2);
  assert.ok(decodeDirents(all.data.subarray(0, all.data.length - 1)) instanceof CodecError);
});
