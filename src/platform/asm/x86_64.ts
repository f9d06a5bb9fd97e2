// A small x86-64 assembler: just the instructions moat's own machine code needs (the ptrace
// stub and its system-call gadgets, the vDSO's clock functions, later the KVM ring-0 entry
// code). It exists so that no C is
// compiled and every byte of machine code that moat runs has a readable source and listing.
//
// It must never emit an instruction it cannot encode exactly: unknown forms throw at assembly
// time (build time, never on the Sentry's hot path). Labels are resolved in a second pass; all
// branches use rel32 so that sizes never change between passes.

export type Reg64 =
  | 'rax'
  | 'rcx'
  | 'rdx'
  | 'rbx'
  | 'rsp'
  | 'rbp'
  | 'rsi'
  | 'rdi'
  | 'r8'
  | 'r9'
  | 'r10'
  | 'r11'
  | 'r12'
  | 'r13'
  | 'r14'
  | 'r15';

const REG_NUM: Readonly<Record<Reg64, number>> = {
  rax: 0,
  rcx: 1,
  rdx: 2,
  rbx: 3,
  rsp: 4,
  rbp: 5,
  rsi: 6,
  rdi: 7,
  r8: 8,
  r9: 9,
  r10: 10,
  r11: 11,
  r12: 12,
  r13: 13,
  r14: 14,
  r15: 15,
};

/** Condition codes for `jcc`. */
export type Cond = 'e' | 'ne' | 'l' | 'ge' | 'le' | 'g' | 'b' | 'ae' | 'be' | 'a' | 's' | 'ns';
const COND: Readonly<Record<Cond, number>> = {
  b: 0x2,
  ae: 0x3,
  be: 0x6,
  a: 0x7,
  e: 0x4,
  ne: 0x5,
  s: 0x8,
  ns: 0x9,
  l: 0xc,
  ge: 0xd,
  le: 0xe,
  g: 0xf,
};

/** One line of the listing: offset, bytes, and the source text. */
export interface ListingLine {
  offset: number;
  bytes: number[];
  text: string;
}

interface Fixup {
  at: number; // offset of the rel32 field
  end: number; // offset of the next instruction
  label: string;
  addend: number; // bytes past the label (rip-relative data outside the block)
}

/** An assembler for one contiguous block of position-independent code. */
export class Assembler {
  private readonly out: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];
  private readonly lines: ListingLine[] = [];

  get offset(): number {
    return this.out.length;
  }

  private emit(text: string, bytes: number[]): this {
    this.lines.push({ offset: this.out.length, bytes, text });
    for (const b of bytes) this.out.push(b & 0xff);
    return this;
  }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`asm: label ${name} defined twice`);
    this.labels.set(name, this.out.length);
    this.lines.push({ offset: this.out.length, bytes: [], text: `${name}:` });
    return this;
  }

  /** mov r64, imm (imm32 zero-extended form when it fits, else movabs). */
  movImm(dst: Reg64, imm: number | bigint): this {
    const v = BigInt(imm);
    const r = REG_NUM[dst];
    if (v >= 0n && v <= 0xffffffffn) {
      const prefix = r >= 8 ? [0x41] : [];
      return this.emit(`mov ${dst}, ${v}`, [...prefix, 0xb8 + (r & 7), ...le(v, 4)]);
    }
    if (v >= -0x80000000n && v < 0) {
      return this.emit(`mov ${dst}, ${v}`, [rex(true, 0, r), 0xc7, modrm(3, 0, r), ...le(v, 4)]);
    }
    return this.emit(`movabs ${dst}, ${v}`, [rex(true, 0, r), 0xb8 + (r & 7), ...le(v, 8)]);
  }

  /** mov dst, src (64-bit registers). */
  mov(dst: Reg64, src: Reg64): this {
    const d = REG_NUM[dst];
    const s = REG_NUM[src];
    return this.emit(`mov ${dst}, ${src}`, [rex(true, s, d), 0x89, modrm(3, s, d)]);
  }

  /** mov dst, [base + disp] (64-bit load). */
  load(dst: Reg64, base: Reg64, disp: number): this {
    const d = REG_NUM[dst];
    const b = REG_NUM[base];
    return this.emit(`mov ${dst}, [${base}+${disp}]`, [
      rex(true, d, b),
      0x8b,
      ...memOperand(d, b, disp),
    ]);
  }

  /** mov [base + disp], src (64-bit store). */
  store(base: Reg64, disp: number, src: Reg64): this {
    const s = REG_NUM[src];
    const b = REG_NUM[base];
    return this.emit(`mov [${base}+${disp}], ${src}`, [
      rex(true, s, b),
      0x89,
      ...memOperand(s, b, disp),
    ]);
  }

  /** xor r32, r32 (zeroes the 64-bit register). */
  zero(r: Reg64): this {
    const n = REG_NUM[r];
    const bytes = [0x31, modrm(3, n, n)];
    if (n >= 8) bytes.unshift(0x45);
    return this.emit(`xor ${r32(r)}, ${r32(r)}`, bytes);
  }

  test(a: Reg64, b: Reg64): this {
    const x = REG_NUM[a];
    const y = REG_NUM[b];
    return this.emit(`test ${a}, ${b}`, [rex(true, y, x), 0x85, modrm(3, y, x)]);
  }

  cmpImm(r: Reg64, imm: number): this {
    const n = REG_NUM[r];
    return this.emit(`cmp ${r}, ${imm}`, [
      rex(true, 0, n),
      0x81,
      modrm(3, 7, n),
      ...le(BigInt(imm), 4),
    ]);
  }

  addImm(r: Reg64, imm: number): this {
    const n = REG_NUM[r];
    return this.emit(`add ${r}, ${imm}`, [
      rex(true, 0, n),
      0x81,
      modrm(3, 0, n),
      ...le(BigInt(imm), 4),
    ]);
  }

  push(r: Reg64): this {
    const n = REG_NUM[r];
    return this.emit(`push ${r}`, n >= 8 ? [0x41, 0x50 + (n & 7)] : [0x50 + n]);
  }

  pop(r: Reg64): this {
    const n = REG_NUM[r];
    return this.emit(`pop ${r}`, n >= 8 ? [0x41, 0x58 + (n & 7)] : [0x58 + n]);
  }

  /** call r64 (indirect). */
  callReg(r: Reg64): this {
    const n = REG_NUM[r];
    const bytes = [0xff, modrm(3, 2, n)];
    if (n >= 8) bytes.unshift(0x41);
    return this.emit(`call ${r}`, bytes);
  }

  /** mov r32, [base + disp] (32-bit load, zero-extended). */
  load32(dst: Reg64, base: Reg64, disp: number): this {
    const d = REG_NUM[dst];
    const b = REG_NUM[base];
    return this.emit(`mov ${r32(dst)}, [${base}+${disp}]`, [
      ...rexOpt(d, b),
      0x8b,
      ...memOperand(d, b, disp),
    ]);
  }

  /** movzx r32, byte [base + disp]. */
  loadByte(dst: Reg64, base: Reg64, disp: number): this {
    const d = REG_NUM[dst];
    const b = REG_NUM[base];
    return this.emit(`movzx ${r32(dst)}, byte [${base}+${disp}]`, [
      ...rexOpt(d, b),
      0x0f,
      0xb6,
      ...memOperand(d, b, disp),
    ]);
  }

  /** mov [base + disp], r32 (32-bit store). */
  store32(base: Reg64, disp: number, src: Reg64): this {
    const s = REG_NUM[src];
    const b = REG_NUM[base];
    return this.emit(`mov [${base}+${disp}], ${r32(src)}`, [
      ...rexOpt(s, b),
      0x89,
      ...memOperand(s, b, disp),
    ]);
  }

  /** mov dword [base + disp], imm32. */
  store32Imm(base: Reg64, disp: number, imm: number): this {
    const b = REG_NUM[base];
    return this.emit(`mov dword [${base}+${disp}], ${imm}`, [
      ...rexOpt(0, b),
      0xc7,
      ...memOperand(0, b, disp),
      ...le(BigInt(imm), 4),
    ]);
  }

  /** xchg [base + disp], r32 (a locked exchange: a full barrier). */
  xchg32(base: Reg64, disp: number, reg: Reg64): this {
    const s = REG_NUM[reg];
    const b = REG_NUM[base];
    return this.emit(`xchg [${base}+${disp}], ${r32(reg)}`, [
      ...rexOpt(s, b),
      0x87,
      ...memOperand(s, b, disp),
    ]);
  }

  /** lock cmpxchg [base + disp], r32: compares with eax; ZF set when it stored. */
  lockCmpxchg32(base: Reg64, disp: number, src: Reg64): this {
    const s = REG_NUM[src];
    const b = REG_NUM[base];
    return this.emit(`lock cmpxchg [${base}+${disp}], ${r32(src)}`, [
      0xf0,
      ...rexOpt(s, b),
      0x0f,
      0xb1,
      ...memOperand(s, b, disp),
    ]);
  }

  pause(): this {
    return this.emit('pause', [0xf3, 0x90]);
  }

  mfence(): this {
    return this.emit('mfence', [0x0f, 0xae, 0xf0]);
  }

  /** rdfsbase / rdgsbase / wrfsbase / wrgsbase r64 (CPUs with FSGSBASE, enabled by the host). */
  segBase(op: 'rdfsbase' | 'rdgsbase' | 'wrfsbase' | 'wrgsbase', r: Reg64): this {
    const ext = { rdfsbase: 0, rdgsbase: 1, wrfsbase: 2, wrgsbase: 3 }[op];
    const n = REG_NUM[r];
    return this.emit(`${op} ${r}`, [0xf3, rex(true, 0, n), 0x0f, 0xae, modrm(3, ext, n)]);
  }

  /** test r64, imm32 (sign-extended). */
  testImm(r: Reg64, imm: number): this {
    const n = REG_NUM[r];
    return this.emit(`test ${r}, ${imm}`, [
      rex(true, 0, n),
      0xf7,
      modrm(3, 0, n),
      ...le(BigInt(imm), 4),
    ]);
  }

  /** jmp r64 (indirect). */
  jmpReg(r: Reg64): this {
    const n = REG_NUM[r];
    const bytes = [0xff, modrm(3, 4, n)];
    if (n >= 8) bytes.unshift(0x41);
    return this.emit(`jmp ${r}`, bytes);
  }

  /** mov r32, r32 (zero-extends into the 64-bit register). */
  mov32(dst: Reg64, src: Reg64): this {
    const d = REG_NUM[dst];
    const s = REG_NUM[src];
    return this.emit(`mov ${r32(dst)}, ${r32(src)}`, [...rexOpt(s, d), 0x89, modrm(3, s, d)]);
  }

  /** lea dst, [rip + label + addend]: the address of data at a fixed distance from the code. */
  leaRip(dst: Reg64, label: string, addend = 0): this {
    const d = REG_NUM[dst];
    const sign = addend < 0 ? '-' : '+';
    this.emit(`lea ${dst}, [rip+${label}${sign}${Math.abs(addend)}]`, [
      rex(true, d, 0),
      0x8d,
      modrm(0, d, 5),
      0,
      0,
      0,
      0,
    ]);
    this.fixups.push({ at: this.out.length - 4, end: this.out.length, label, addend });
    return this;
  }

  add(dst: Reg64, src: Reg64): this {
    return this.aluRR('add', 0x01, dst, src);
  }

  sub(dst: Reg64, src: Reg64): this {
    return this.aluRR('sub', 0x29, dst, src);
  }

  or(dst: Reg64, src: Reg64): this {
    return this.aluRR('or', 0x09, dst, src);
  }

  cmp(a: Reg64, b: Reg64): this {
    return this.aluRR('cmp', 0x39, a, b);
  }

  andImm(r: Reg64, imm: number): this {
    const n = REG_NUM[r];
    return this.emit(`and ${r}, ${imm}`, [
      rex(true, 0, n),
      0x81,
      modrm(3, 4, n),
      ...le(BigInt(imm), 4),
    ]);
  }

  shlImm(r: Reg64, n: number): this {
    return this.shiftImm('shl', 4, r, n);
  }

  shrImm(r: Reg64, n: number): this {
    return this.shiftImm('shr', 5, r, n);
  }

  /** shrd dst, src, n: dst = low 64 bits of (src:dst) >> n. */
  shrd(dst: Reg64, src: Reg64, n: number): this {
    const d = REG_NUM[dst];
    const s = REG_NUM[src];
    return this.emit(`shrd ${dst}, ${src}, ${n}`, [rex(true, s, d), 0x0f, 0xac, modrm(3, s, d), n]);
  }

  /** mul r64: rdx:rax = rax * r (unsigned). */
  mul(r: Reg64): this {
    const n = REG_NUM[r];
    return this.emit(`mul ${r}`, [rex(true, 0, n), 0xf7, modrm(3, 4, n)]);
  }

  /** div r64: rax = rdx:rax / r, rdx = the remainder (unsigned). */
  div(r: Reg64): this {
    const n = REG_NUM[r];
    return this.emit(`div ${r}`, [rex(true, 0, n), 0xf7, modrm(3, 6, n)]);
  }

  /** lsl r32, r32: the segment limit of the selector in src (ZF set when it is valid). */
  lsl(dst: Reg64, src: Reg64): this {
    const d = REG_NUM[dst];
    const s = REG_NUM[src];
    return this.emit(`lsl ${r32(dst)}, ${r32(src)}`, [...rexOpt(d, s), 0x0f, 0x03, modrm(3, d, s)]);
  }

  rdtsc(): this {
    return this.emit('rdtsc', [0x0f, 0x31]);
  }

  lfence(): this {
    return this.emit('lfence', [0x0f, 0xae, 0xe8]);
  }

  /** call label (rel32). */
  call(label: string): this {
    this.emit(`call ${label}`, [0xe8, 0, 0, 0, 0]);
    this.fixups.push({ at: this.out.length - 4, end: this.out.length, label, addend: 0 });
    return this;
  }

  private aluRR(name: string, op: number, dst: Reg64, src: Reg64): this {
    const d = REG_NUM[dst];
    const s = REG_NUM[src];
    return this.emit(`${name} ${dst}, ${src}`, [rex(true, s, d), op, modrm(3, s, d)]);
  }

  private shiftImm(name: string, ext: number, r: Reg64, n: number): this {
    const x = REG_NUM[r];
    return this.emit(`${name} ${r}, ${n}`, [rex(true, 0, x), 0xc1, modrm(3, ext, x), n & 0x3f]);
  }

  syscall(): this {
    return this.emit('syscall', [0x0f, 0x05]);
  }

  int3(): this {
    return this.emit('int3', [0xcc]);
  }

  ret(): this {
    return this.emit('ret', [0xc3]);
  }

  hlt(): this {
    return this.emit('hlt', [0xf4]);
  }

  nop(): this {
    return this.emit('nop', [0x90]);
  }

  ud2(): this {
    return this.emit('ud2', [0x0f, 0x0b]);
  }

  jmp(label: string): this {
    this.emit(`jmp ${label}`, [0xe9, 0, 0, 0, 0]);
    this.fixups.push({ at: this.out.length - 4, end: this.out.length, label, addend: 0 });
    return this;
  }

  jcc(cond: Cond, label: string): this {
    this.emit(`j${cond} ${label}`, [0x0f, 0x80 + COND[cond], 0, 0, 0, 0]);
    this.fixups.push({ at: this.out.length - 4, end: this.out.length, label, addend: 0 });
    return this;
  }

  /** Resolves labels and returns the machine code. */
  assemble(): Uint8Array {
    const code = Uint8Array.from(this.out);
    for (const f of this.fixups) {
      const target = this.labels.get(f.label);
      if (target === undefined) throw new Error(`asm: undefined label ${f.label}`);
      const rel = target + f.addend - f.end;
      new DataView(code.buffer).setInt32(f.at, rel, true);
      const line = this.lines.find((l) => l.offset <= f.at && f.at < l.offset + l.bytes.length);
      if (line) {
        const k = f.at - line.offset;
        for (let i = 0; i < 4; i++) line.bytes[k + i] = code[f.at + i] ?? 0;
      }
    }
    return code;
  }

  /** Offset of a label, after assemble(). */
  labelOffset(name: string): number {
    const v = this.labels.get(name);
    if (v === undefined) throw new Error(`asm: undefined label ${name}`);
    return v;
  }

  /** A human-readable listing: offset, hex bytes, instruction. */
  listing(): string {
    return this.lines
      .map((l) => {
        const hex = l.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
        return `${l.offset.toString(16).padStart(4, '0')}  ${hex.padEnd(30)} ${l.text}`;
      })
      .join('\n');
  }
}

function rex(w: boolean, reg: number, rm: number): number {
  return 0x40 | (w ? 8 : 0) | (((reg >> 3) & 1) << 2) | ((rm >> 3) & 1);
}

/** A REX prefix for a 32-bit operation, only when an extended register needs one. */
function rexOpt(reg: number, rm: number): number[] {
  return reg >= 8 || rm >= 8 ? [0x40 | (((reg >> 3) & 1) << 2) | ((rm >> 3) & 1)] : [];
}

const R32: Readonly<Record<string, string>> = {
  rax: 'eax',
  rcx: 'ecx',
  rdx: 'edx',
  rbx: 'ebx',
  rsp: 'esp',
  rbp: 'ebp',
  rsi: 'esi',
  rdi: 'edi',
};

/** The 32-bit name of a 64-bit register (eax, r8d…). */
export function r32(r: Reg64): string {
  return R32[r] ?? `${r}d`;
}

function modrm(mod: number, reg: number, rm: number): number {
  return ((mod & 3) << 6) | ((reg & 7) << 3) | (rm & 7);
}

function memOperand(reg: number, base: number, disp: number): number[] {
  const bytes = [modrm(2, reg, base)];
  if ((base & 7) === 4) bytes.push(0x24); // SIB: base only (rsp/r12)
  bytes.push(...le(BigInt(disp), 4));
  return bytes;
}

function le(v: bigint, n: number): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(n * 8, v);
  for (let i = 0; i < n; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
}
