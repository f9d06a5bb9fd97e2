import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfProgram, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS, denyListFilter } from './bpf.js';

test('bpf: encodes instructions and resolves forward labels', () => {
  const p = new BpfProgram()
    .loadWord(0)
    .jeq(59, 'kill')
    .ret(SECCOMP_RET_ALLOW)
    .label('kill')
    .ret(SECCOMP_RET_KILL_PROCESS);
  const b = p.assemble();
  assert.equal(b.length, 32);
  const dv = new DataView(b.buffer);
  assert.equal(dv.getUint16(8, true), 0x15);
  assert.equal(dv.getUint8(10), 1); // jt skips the ALLOW
  assert.equal(dv.getUint32(12, true), 59);
  assert.equal(dv.getUint32(28, true), SECCOMP_RET_KILL_PROCESS);
});

test('bpf: refuses backward and undefined jumps', () => {
  assert.throws(() => new BpfProgram().label('x').jeq(1, 'x').assemble(), /out of range/);
  assert.throws(() => new BpfProgram().jeq(1, 'nowhere').assemble(), /undefined label/);
});

test('bpf: the deny-list filter denies exactly the listed calls, after the arch checks', () => {
  const b = denyListFilter([59, 257]);
  const dv = new DataView(b.buffer);
  // ld arch, jeq x86_64, ld nr, jge x32, 2 × jeq, ret allow, ret errno, ret kill
  assert.equal(b.length / 8, 9);
  assert.equal(dv.getUint32(4 * 8 + 4, true), 59);
  assert.equal(dv.getUint32(5 * 8 + 4, true), 257);
  assert.equal(dv.getUint32(6 * 8 + 4, true), SECCOMP_RET_ALLOW);
});
