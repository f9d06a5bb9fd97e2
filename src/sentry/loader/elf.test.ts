// ELF parsing faces hostile files: real headers parse, and random mutations and truncations of
// them yield a value or -ENOEXEC, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Errno } from '../../abi/linux/errno.js';
import { PT_INTERP, PT_LOAD, parseElfHeader, parseProgramHeaders } from './elf.js';

const busybox = readFileSync('/bin/busybox');
const dynamic = readFileSync(process.execPath);

test('elf: parses a static and a dynamic executable', () => {
  const h = parseElfHeader(busybox.subarray(0, 64));
  assert.ok(typeof h !== 'number');
  const ph = parseProgramHeaders(
    busybox.subarray(Number(h.phoff), Number(h.phoff) + h.phnum * 56),
    h.phnum,
  );
  assert.ok(typeof ph !== 'number');
  assert.ok(ph.some((p) => p.type === PT_LOAD));
  assert.ok(!ph.some((p) => p.type === PT_INTERP), 'busybox-static has no interpreter');
  const d = parseElfHeader(dynamic.subarray(0, 64));
  assert.ok(typeof d !== 'number');
  const dph = parseProgramHeaders(
    dynamic.subarray(Number(d.phoff), Number(d.phoff) + d.phnum * 56),
    d.phnum,
  );
  assert.ok(typeof dph !== 'number' && dph.some((p) => p.type === PT_INTERP));
});

test('elf: rejects non-ELF and foreign files with ENOEXEC', () => {
  assert.equal(parseElfHeader(new Uint8Array(64)), -Errno.ENOEXEC);
  assert.equal(parseElfHeader(Buffer.from('#!/bin/sh\n')), -Errno.ENOEXEC);
  const b = Buffer.from(busybox.subarray(0, 64));
  b[18] = 3; // EM_386
  assert.equal(parseElfHeader(b), -Errno.ENOEXEC);
});

test('elf: random mutations and truncations never throw (fixed budget)', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const h = parseElfHeader(busybox.subarray(0, 64));
  assert.ok(typeof h !== 'number');
  const phBytes = busybox.subarray(Number(h.phoff), Number(h.phoff) + h.phnum * 56);
  for (let i = 0; i < 5000; i++) {
    const hb = Buffer.from(busybox.subarray(0, 64));
    const pb = Buffer.from(phBytes);
    for (let k = rnd(8); k >= 0; k--) {
      hb[rnd(64)] = rnd(256);
      pb[rnd(pb.length)] = rnd(256);
    }
    const cut = rnd(3) === 0 ? rnd(64) : 64;
    const r = parseElfHeader(hb.subarray(0, cut));
    if (typeof r === 'number') assert.equal(r, -Errno.ENOEXEC);
    const p = parseProgramHeaders(pb.subarray(0, rnd(pb.length + 1)), rnd(200));
    if (typeof p === 'number') assert.equal(p, -Errno.ENOEXEC);
  }
});
