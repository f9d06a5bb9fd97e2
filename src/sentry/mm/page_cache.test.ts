// The memory file's page references and the page cache over it, on a real memfd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFile, PAGE } from './memory_file.js';
import { PageCache } from './page_cache.js';

function mf(): MemoryFile {
  const m = MemoryFile.create();
  if (typeof m === 'string') assert.fail(m);
  return m;
}

test('memory file: a page is reused only after its last reference goes, and reads as zeros', () => {
  const m = mf();
  const a = m.allocate(4 * PAGE);
  assert.ok(a >= 0);
  m.at(a).view.fill(0xaa, m.at(a).index, m.at(a).index + 4 * PAGE);
  m.incRef(a, 2 * PAGE);
  assert.equal(m.refCount(a), 2);
  assert.equal(m.exclusive(a, 4 * PAGE), false);
  m.decRef(a, 4 * PAGE);
  // The first two pages still have a holder; the last two are free.
  assert.equal(m.refCount(a), 1);
  assert.equal(m.refCount(a + 3 * PAGE), 0);
  const b = m.allocate(2 * PAGE);
  assert.equal(b, a + 2 * PAGE, 'the freed tail is handed out again');
  const v = m.at(b);
  assert.equal(v.view[v.index], 0, 'a reused page reads as zero');
  const w = m.at(a);
  assert.equal(w.view[w.index], 0xaa, 'a held page keeps its bytes');
  m.decRef(a, 2 * PAGE);
  m.decRef(b, 2 * PAGE);
  assert.equal(m.handedOutBytes, 0);
});

test('page cache: write, read, sparse holes, truncation and a size limit', () => {
  const m = mf();
  const c = new PageCache(m);
  let charged = 0;
  c.limiter = {
    charge: (n) => {
      if (charged + n > 3) return false;
      charged += n;
      return true;
    },
  };
  assert.equal(c.write(Uint8Array.from([1, 2, 3]), PAGE - 1), 0);
  assert.equal(c.count, 2);
  const out = new Uint8Array(4);
  c.read(out, PAGE - 2);
  assert.deepEqual([...out], [0, 1, 2, 3]);
  // A hole far away reads as zeros and costs nothing.
  const far = new Uint8Array(2);
  c.read(far, 1000 * PAGE);
  assert.deepEqual([...far], [0, 0]);
  assert.equal(c.write(new Uint8Array(1), 10 * PAGE), 0);
  assert.equal(charged, 3);
  assert.equal(c.write(new Uint8Array(1), 20 * PAGE), -28, 'past the limit: ENOSPC');
  c.dropFrom(1);
  assert.equal(c.count, 1);
  assert.equal(charged, 1);
  c.clear();
  assert.equal(charged, 0);
  assert.equal(m.handedOutBytes, 0);
});
