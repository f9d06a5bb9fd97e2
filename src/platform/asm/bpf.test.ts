import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpfProgram,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  allowListFilter,
  runFilter,
} from './bpf.js';

test('bpf: an allow list with a checked call and an errno, run by the interpreter', () => {
  const f = allowListFilter({
    allow: [0, 1],
    checked: [{ nr: 16, emit: (p, allow, deny) => p.loadWord(16).jeq(7, allow, deny) }],
    errno: new Map([[435, 38]]),
  });
  assert.equal(runFilter(f, 0), SECCOMP_RET_ALLOW);
  assert.equal(runFilter(f, 2), SECCOMP_RET_ERRNO | 1);
  assert.equal(runFilter(f, 16, [7n]), SECCOMP_RET_ALLOW);
  assert.equal(runFilter(f, 16, [8n]), SECCOMP_RET_ERRNO | 1);
  assert.equal(runFilter(f, 435), SECCOMP_RET_ERRNO | 38);
  assert.equal(runFilter(f, 0x40000000), SECCOMP_RET_KILL_PROCESS);
  assert.equal(runFilter(f, 0, [], 0x40000003), SECCOMP_RET_KILL_PROCESS);
});

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
