// Unit tests of the application's seccomp programs: what the checker refuses, what the
// interpreter computes, and a fixed-budget random loop (the programs are hostile input): the
// checker never throws, and a program it accepts always runs to a return without throwing.
// The kernel's own verdicts are compared in the conformance case seccomp.c.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../abi/linux/errno.js';
import { checkSeccompProgram, runSeccompProgram } from './seccomp_bpf.js';

type Insn = [code: number, jt: number, jf: number, k: number];

function bytes(insns: readonly Insn[]): Uint8Array {
  const b = new Uint8Array(insns.length * 8);
  const dv = new DataView(b.buffer);
  insns.forEach(([code, jt, jf, k], i) => {
    dv.setUint16(i * 8, code, true);
    dv.setUint8(i * 8 + 2, jt);
    dv.setUint8(i * 8 + 3, jf);
    dv.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return b;
}

function data(nr: number, arg0 = 0n): DataView {
  const dv = new DataView(new ArrayBuffer(64));
  dv.setInt32(0, nr, true);
  dv.setUint32(4, 0xc000003e, true);
  dv.setBigUint64(16, arg0, true);
  return dv;
}

function run(insns: readonly Insn[], d = data(0)): number {
  const p = checkSeccompProgram(bytes(insns));
  if (typeof p === 'number') throw new Error(`refused: ${p}`);
  return runSeccompProgram(p, d);
}

const LD_ABS = 0x20;
const RET_K = 0x06;
const RET_A = 0x16;
const JEQ_K = 0x15;
const ALU_DIV_X = 0x3c;
const LDX_IMM = 0x01;
const ST = 0x02;
const LD_MEM = 0x60;

describe('seccomp BPF', () => {
  it('refuses what Linux refuses', () => {
    const einval = -Errno.EINVAL;
    assert.equal(checkSeccompProgram(new Uint8Array(0)), einval, 'empty');
    assert.equal(checkSeccompProgram(new Uint8Array(4097 * 8)), einval, 'too long');
    assert.equal(checkSeccompProgram(bytes([[LD_ABS, 0, 0, 0]])), einval, 'no return');
    assert.equal(
      checkSeccompProgram(
        bytes([
          [LD_ABS, 0, 0, 6],
          [RET_K, 0, 0, 0],
        ]),
      ),
      einval,
    );
    assert.equal(
      checkSeccompProgram(
        bytes([
          [LD_ABS, 0, 0, 64],
          [RET_K, 0, 0, 0],
        ]),
      ),
      einval,
    );
    assert.equal(
      checkSeccompProgram(
        bytes([
          [JEQ_K, 1, 0, 0],
          [RET_K, 0, 0, 0],
        ]),
      ),
      einval,
    );
    assert.equal(
      checkSeccompProgram(
        bytes([
          [0x94, 0, 0, 3],
          [RET_K, 0, 0, 0],
        ]),
      ),
      einval,
      'mod',
    );
    assert.equal(
      checkSeccompProgram(
        bytes([
          [LD_MEM, 0, 0, 0],
          [RET_K, 0, 0, 0],
        ]),
      ),
      einval,
    );
    assert.equal(
      checkSeccompProgram(
        bytes([
          [ST, 0, 0, 16],
          [RET_K, 0, 0, 0],
        ]),
      ),
      einval,
    );
  });

  it('loads seccomp_data, compares, returns K or A', () => {
    const prog: Insn[] = [
      [LD_ABS, 0, 0, 0],
      [JEQ_K, 0, 1, 39],
      [RET_K, 0, 0, 0x50000 | 1],
      [LD_ABS, 0, 0, 16],
      [RET_A, 0, 0, 0],
    ];
    assert.equal(run(prog, data(39)), 0x50001);
    assert.equal(run(prog, data(40, 0x1234_0000_0042n)), 0x42);
  });

  it('scratch memory written before it is read; a division by a zero X returns 0', () => {
    assert.equal(
      run([
        [0x00, 0, 0, 7], // A = 7
        [ST, 0, 0, 5],
        [0x00, 0, 0, 0],
        [LD_MEM, 0, 0, 5],
        [RET_A, 0, 0, 0],
      ]),
      7,
    );
    assert.equal(
      run([
        [0x00, 0, 0, 9],
        [LDX_IMM, 0, 0, 0],
        [ALU_DIV_X, 0, 0, 0],
        [RET_K, 0, 0, 0x7fff0000],
      ]),
      0,
    );
  });

  it('random programs: the checker never throws; accepted ones always return', () => {
    let seed = 0x12345678;
    const rnd = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    // Codes seccomp knows, and a few it does not, so that both paths are taken.
    const codes = [
      0x20, 0x80, 0x81, 0x06, 0x16, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x34, 0x3c, 0x44, 0x54, 0x64,
      0x74, 0x84, 0xa4, 0x00, 0x01, 0x07, 0x87, 0x60, 0x61, 0x02, 0x03, 0x05, 0x15, 0x1d, 0x25,
      0x35, 0x45, 0x4d, 0x28, 0x94, 0xff,
    ];
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const n = 1 + (rnd() % 12);
      const insns: Insn[] = [];
      for (let j = 0; j < n; j++) {
        const code = codes[rnd() % codes.length] ?? 0;
        const small = rnd() % 3 === 0;
        insns.push([code, rnd() % 4, rnd() % 4, small ? (rnd() % 17) * 4 : rnd()]);
      }
      insns.push([RET_K, 0, 0, rnd()]);
      const p = checkSeccompProgram(bytes(insns));
      if (typeof p === 'number') {
        assert.equal(p, -Errno.EINVAL);
        continue;
      }
      accepted++;
      const r = runSeccompProgram(p, data(rnd() % 512, BigInt(rnd())));
      assert.ok(Number.isInteger(r) && r >= 0 && r <= 0xffffffff);
    }
    assert.ok(accepted > 100, `some random programs pass the checker (${accepted})`);
  });
});
