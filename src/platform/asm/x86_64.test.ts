// The assembler against GNU as: the same instructions, assembled by both, must give the same
// bytes. (binutils comes with gcc on every machine; without it the test says so and skips.)
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Assembler, r32, type Reg64 } from './x86_64.js';

function gnuAs(source: string): Uint8Array | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-asm-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.s'), `.intel_syntax noprefix\n${source}\n`);
    execFileSync('as', ['--64', '-o', path.join(dir, 'a.o'), path.join(dir, 'a.s')]);
    execFileSync('objcopy', [
      '-O',
      'binary',
      '-j',
      '.text',
      path.join(dir, 'a.o'),
      path.join(dir, 'a.bin'),
    ]);
    return new Uint8Array(fs.readFileSync(path.join(dir, 'a.bin')));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** objdump's reading of raw x86-64 bytes: one "mnemonic operands" string per instruction. */
function disassemble(code: Uint8Array): string[] | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-dis-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.bin'), code);
    const out = execFileSync(
      'objdump',
      ['-D', '-b', 'binary', '-m', 'i386:x86-64', '-M', 'intel', path.join(dir, 'a.bin')],
      {
        encoding: 'utf8',
      },
    );
    return out
      .split('\n')
      .map((l) => /^\s*[0-9a-f]+:\t(?:[0-9a-f]{2} )+\s*\t(.*)$/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined)
      .map((x) =>
        x
          .replace(/\s+/g, ' ')
          .replace(/ <.*>$/, '')
          .replace(/ # .*$/, '')
          .trim(),
      )
      .map((x) =>
        x.replace(/^(j\w+|call) 0x[0-9a-f]+$/, '$1').replace(/\[rip\+0x[0-9a-f]+\]/, '[rip+X]'),
      );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const REGS: Reg64[] = [
  'rax',
  'rcx',
  'rdx',
  'rbx',
  'rsp',
  'rbp',
  'rsi',
  'rdi',
  'r8',
  'r9',
  'r10',
  'r11',
  'r12',
  'r13',
  'r14',
  'r15',
];

/**
 * Our bytes and GNU as's for `source` mean the same instructions, as objdump decodes them (GNU
 * as picks the shortest encodings — disp8, imm8, rel8 — where ours always takes the 32-bit
 * forms). Skips, saying why, without binutils.
 */
function sameAsGnu(t: TestContext, ours: Uint8Array, source: string): void {
  const theirs = gnuAs(source);
  if (theirs === null) {
    t.skip('GNU as/objcopy are not available on this machine');
    return;
  }
  const a1 = disassemble(ours);
  const a2 = disassemble(theirs);
  if (a1 === null || a2 === null) {
    t.skip('objdump is not available on this machine');
    return;
  }
  assert.deepEqual(a1, a2);
}

test('x86-64 assembler: every form matches GNU as byte for byte', (t) => {
  const a = new Assembler();
  const src: string[] = [];
  for (const r of REGS) {
    a.movImm(r, 60).movImm(r, -4).movImm(r, 0x123456789an).mov(r, 'rbx').mov('r9', r);
    src.push(
      `mov ${r32(r)}, 60`,
      `mov ${r}, -4`,
      `movabs ${r}, 0x123456789a`,
      `mov ${r}, rbx`,
      `mov r9, ${r}`,
    );
    a.load(r, 'rsp', 8).load(r, 'r12', -16).store('r13', 24, r).store('rbp', 0x1000, r);
    src.push(
      `mov ${r}, [rsp+8]`,
      `mov ${r}, [r12-16]`,
      `mov [r13+24], ${r}`,
      `mov [rbp+0x1000], ${r}`,
    );
    a.zero(r).test(r, 'rdi').cmpImm(r, -4).addImm(r, 0x100).push(r).pop(r).callReg(r);
    src.push(
      `xor ${r32(r)}, ${r32(r)}`,
      `test ${r}, rdi`,
      `cmp ${r}, -4`,
      `add ${r}, 0x100`,
      `push ${r}`,
      `pop ${r}`,
      `call ${r}`,
    );
  }
  a.syscall().int3().ret().hlt().nop().ud2();
  src.push('syscall', 'int3', 'ret', 'hlt', 'nop', 'ud2');
  a.label('top').jmp('end').jcc('ne', 'top').jcc('s', 'end').label('end');
  src.push('top:', 'jmp end', 'jne top', 'js end', 'end:');
  // Force the long branch forms in GNU as's output for comparison: ours are always rel32.
  sameAsGnu(t, a.assemble(), src.join('\n').replace(/^(jmp|jne|js) /gm, '$1 near ptr '));
  assert.match(a.listing(), /syscall/);
});

test('x86-64 assembler: the vDSO forms match GNU as', (t) => {
  const a = new Assembler();
  const src: string[] = [];
  for (const r of REGS) {
    a.load32(r, 'r8', 4).load32(r, 'rsp', 0x20).loadByte(r, 'r9', 0x80).store32('rsi', 4, r);
    src.push(
      `mov ${r32(r)}, [r8+4]`,
      `mov ${r32(r)}, [rsp+0x20]`,
      `movzx ${r32(r)}, byte ptr [r9+0x80]`,
      `mov [rsi+4], ${r32(r)}`,
    );
    a.mov32(r, 'r10').mov32('rcx', r).add(r, 'r11').sub('rax', r).or(r, 'rdx').cmp(r, 'r9');
    src.push(
      `mov ${r32(r)}, r10d`,
      `mov ecx, ${r32(r)}`,
      `add ${r}, r11`,
      `sub rax, ${r}`,
      `or ${r}, rdx`,
      `cmp ${r}, r9`,
    );
    a.andImm(r, 0xfff).shlImm(r, 32).shrImm(r, 3).shrd(r, 'rdx', 32).mul(r).div(r).lsl(r, 'rcx');
    src.push(
      `and ${r}, 0xfff`,
      `shl ${r}, 32`,
      `shr ${r}, 3`,
      `shrd ${r}, rdx, 32`,
      `mul ${r}`,
      `div ${r}`,
      `lsl ${r32(r)}, ecx`,
    );
  }
  a.rdtsc().lfence().label('here').leaRip('r8', 'here').leaRip('rax', 'here').call('here');
  a.jcc('a', 'here').jcc('be', 'here');
  src.push('rdtsc', 'lfence', 'here:', 'lea r8, [rip+here]', 'lea rax, [rip+here]', 'call here');
  src.push('ja near ptr here', 'jbe near ptr here');
  sameAsGnu(t, a.assemble(), src.join('\n'));
});

test('x86-64 assembler: the systrap forms match GNU as', (t) => {
  const a = new Assembler();
  const src: string[] = [];
  for (const r of REGS) {
    a.store32Imm(r, 8, 1).xchg32(r, 4, 'rcx').xchg32('r15', 16, r).lockCmpxchg32(r, 32, 'rdx');
    src.push(
      `mov dword ptr [${r}+8], 1`,
      `xchg [${r}+4], ecx`,
      `xchg [r15+16], ${r32(r)}`,
      `lock cmpxchg [${r}+32], edx`,
    );
    a.segBase('rdfsbase', r).segBase('wrgsbase', r).testImm(r, 0x100).jmpReg(r);
    src.push(`rdfsbase ${r}`, `wrgsbase ${r}`, `test ${r}, 0x100`, `jmp ${r}`);
  }
  a.pause().mfence();
  src.push('pause', 'mfence');
  sameAsGnu(t, a.assemble(), src.join('\n'));
});

test('x86-64 assembler: rip-relative addresses reach data before the code', () => {
  const a = new Assembler();
  a.label('start').leaRip('rcx', 'start', -0x1000).ret();
  const code = a.assemble();
  // lea rcx, [rip+disp32]: 7 bytes, so the displacement is -0x1000 - 7.
  assert.equal(new DataView(code.buffer).getInt32(3, true), -0x1000 - 7);
});

test('x86-64 assembler: undefined and duplicate labels are errors at assembly time', () => {
  assert.throws(() => new Assembler().jmp('nowhere').assemble(), /undefined label/);
  assert.throws(() => new Assembler().label('x').label('x'), /defined twice/);
});
