// RangeSet: ordered disjoint ranges, lookup by address, split and removal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RangeSet, type Range } from './range_set.js';

interface R extends Range {
  tag: string;
}

test('range set: find, overlaps, split and removeWithin keep order', () => {
  const s = new RangeSet<R>();
  s.insert({ start: 0x3000n, end: 0x5000n, tag: 'b' });
  s.insert({ start: 0x1000n, end: 0x2000n, tag: 'a' });
  s.insert({ start: 0x8000n, end: 0x9000n, tag: 'c' });
  assert.deepEqual(
    s.all().map((r) => r.tag),
    ['a', 'b', 'c'],
  );
  assert.equal(s.find(0x1fffn)?.tag, 'a');
  assert.equal(s.find(0x2000n), undefined);
  assert.equal(s.find(0x4000n)?.tag, 'b');
  assert.equal(s.overlaps(0x2000n, 0x3000n), false);
  assert.equal(s.overlaps(0x2000n, 0x3001n), true);
  s.splitAt(0x4000n, (r, at) => ({ ...r, start: at, tag: `${r.tag}2` }));
  assert.deepEqual(
    s.all().map((r) => `${r.tag}:${r.start.toString(16)}-${r.end.toString(16)}`),
    ['a:1000-2000', 'b:3000-4000', 'b2:4000-5000', 'c:8000-9000'],
  );
  const gone = s.removeWithin(0x3000n, 0x5000n);
  assert.deepEqual(
    gone.map((r) => r.tag),
    ['b', 'b2'],
  );
  assert.deepEqual(
    s.overlapping(0n, 0x10000n).map((r) => r.tag),
    ['a', 'c'],
  );
});

test('range set: thousands of ranges stay sorted and searchable', () => {
  const s = new RangeSet<R>();
  for (let i = 2000; i > 0; i--)
    s.insert({ start: BigInt(i) * 0x2000n, end: BigInt(i) * 0x2000n + 0x1000n, tag: `${i}` });
  assert.equal(s.size, 2000);
  for (let i = 1; i <= 2000; i += 97) assert.equal(s.find(BigInt(i) * 0x2000n + 5n)?.tag, `${i}`);
  assert.equal(s.find(0x3000n), undefined);
});
