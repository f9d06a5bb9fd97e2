// The memory manager over the real memory file and a real ptrace address space.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno } from '../../abi/linux/errno.js';
import { PtracePlatform } from '../../platform/ptrace/ptrace_platform.js';
import { MemoryFile } from './memory_file.js';
import { AnonObject } from './anon_object.js';
import {
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MemoryManager,
  PROT_READ,
  PROT_WRITE,
} from './memory_manager.js';

function setup(): { mm: MemoryManager; done: () => void } {
  const mf = MemoryFile.create();
  assert.ok(typeof mf !== 'string');
  const p = PtracePlatform.create(mf.fd);
  assert.ok(typeof p !== 'string');
  const as = p.newAddressSpace();
  assert.ok(typeof as !== 'number');
  const mm = new MemoryManager(mf, as, p.maxUserAddress);
  mm.mmapTop = 0x7f0000000000n;
  return {
    mm,
    done: () => {
      as.release();
      p.release();
    },
  };
}

test('mm: mmap, copies, munmap splits, EFAULT on unmapped and read-only memory', () => {
  const { mm, done } = setup();
  try {
    const a = mm.mmap(0n, 3n * 4096n, PROT_READ | PROT_WRITE, MAP_PRIVATE, 'anon');
    assert.ok(a > 0n && a % 4096n === 0n);
    assert.equal(mm.copyOut(a + 4090n, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), 10);
    assert.deepEqual(
      [...(mm.copyIn(a + 4090n, 10) as Uint8Array)],
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    // Fresh memory reads as zeros.
    assert.deepEqual([...(mm.copyIn(a + 8192n, 4) as Uint8Array)], [0, 0, 0, 0]);
    // Unmap the middle page: copies across it fail, the ends stay.
    assert.equal(mm.munmap(a + 4096n, 4096n), 0);
    assert.equal(mm.copyIn(a + 4090n, 10), -Errno.EFAULT);
    assert.equal(mm.mappings().length, 2);
    // Read-only memory refuses copyOut but not copyIn.
    assert.equal(mm.mprotect(a, 4096n, PROT_READ), 0);
    assert.equal(mm.copyOut(a, Uint8Array.from([1])), -Errno.EFAULT);
    assert.equal((mm.copyIn(a, 1) as Uint8Array)[0], 0);
    // Hostile addresses.
    assert.equal(mm.copyIn(0n, 1), -Errno.EFAULT);
    assert.equal(mm.copyIn(0xffffffffffffff00n, 16), -Errno.EFAULT);
    assert.equal(mm.copyInString(a + 8192n, 10), '');
    assert.equal(mm.munmap(a + 1n, 4096n), -Errno.EINVAL);
  } finally {
    done();
  }
});

test('mm: MAP_FIXED replaces, brk grows and shrinks, strings stop at NUL or the limit', () => {
  const { mm, done } = setup();
  try {
    const a = mm.mmap(0x10000000n, 8192n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, 'x');
    assert.equal(a, 0x10000000n);
    mm.copyOut(a, Buffer.from('hello\0world'));
    assert.equal(mm.copyInString(a, 100), 'hello');
    assert.equal(mm.copyInString(a + 6n, 3), -Errno.ENAMETOOLONG);
    const b = mm.mmap(a, 4096n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, 'y');
    assert.equal(b, a);
    assert.equal((mm.copyIn(a, 1) as Uint8Array)[0], 0, 'MAP_FIXED gave fresh memory');
    mm.brkStart = 0x20000000n;
    mm.brkEnd = 0x20000000n;
    assert.equal(mm.brk(0x20003000n), 0x20003000n);
    assert.equal(mm.copyOut(0x20002ff0n, new Uint8Array(16)), 16);
    assert.equal(mm.brk(0x20001000n), 0x20001000n);
    assert.equal(mm.copyOut(0x20002ff0n, new Uint8Array(16)), -Errno.EFAULT);
    assert.equal(mm.brk(0n), 0x20001000n, 'brk(0) reports the current break');
  } finally {
    done();
  }
});

test('mm: fork shares private memory copy-on-write and shared memory for real', () => {
  const { mm, done } = setup();
  const p = PtracePlatform.create(mm.mf.fd);
  assert.ok(typeof p !== 'string');
  const as2 = p.newAddressSpace();
  assert.ok(typeof as2 !== 'number');
  try {
    const priv = mm.mmap(0n, 1n << 20n, PROT_READ | PROT_WRITE, MAP_PRIVATE, '[anon]');
    const shared = mm.mmap(0n, 8192n, PROT_READ | PROT_WRITE, MAP_SHARED, '[shared]', {
      obj: new AnonObject(mm.mf, 8192),
    });
    assert.equal(mm.copyOut(priv, Uint8Array.from([1])), 1);
    assert.equal(mm.copyOut(shared, Uint8Array.from([1])), 1);
    const child = mm.fork(as2);
    const before = mm.privateBytes();
    assert.equal(mm.copyOut(priv, Uint8Array.from([2])), 1, 'the parent writes after fork');
    assert.equal((child.copyIn(priv, 1) as Uint8Array)[0], 1, 'the child keeps its copy');
    assert.equal(child.copyOut(shared, Uint8Array.from([3])), 1);
    assert.equal((mm.copyIn(shared, 1) as Uint8Array)[0], 3, 'shared memory is shared');
    assert.ok(mm.privateBytes() > before, 'the write gave the parent pages of its own');
    child.releaseAll();
    // The child gone, the parent's remaining shared pages are its alone: a write takes them over.
    assert.equal(mm.copyOut(priv + 0x80000n, Uint8Array.from([4])), 1);
    assert.equal((mm.copyIn(priv, 1) as Uint8Array)[0], 2);
    // Reservations cost nothing until touched.
    const big = mm.mmap(0n, 4n << 30n, PROT_READ | PROT_WRITE, MAP_PRIVATE, '[anon]');
    assert.ok(big > 0n);
    const used = mm.mf.handedOutBytes;
    assert.equal(mm.copyOut(big + (3n << 30n), Uint8Array.from([5])), 1);
    assert.ok(mm.mf.handedOutBytes - used <= 2 << 20, 'one fault-around window, not 4 GiB');
  } finally {
    as2.release();
    p.release();
    done();
  }
});
