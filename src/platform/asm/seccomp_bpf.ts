// Classic BPF for the application's own seccomp filters (seccomp(2), prctl(PR_SET_SECCOMP)):
// the checker Linux runs when a filter is attached (bpf_check_classic, then
// seccomp_check_filter: only the instructions seccomp allows, every jump inside the program,
// no division by a constant zero, no shift of 32 or more, no scratch word read before it is
// written on every path, a return at the end, loads of struct seccomp_data only at aligned
// offsets inside it) and an interpreter that runs a checked program over one call's
// seccomp_data.
//
// The program is the application's: hostile input. The checker refuses what Linux refuses
// (EINVAL); the interpreter never throws and never reads outside the program, the 64 bytes of
// seccomp_data or its 16 scratch words, and always ends (jumps only go forward).

import { Errno } from '../../abi/linux/errno.js';

/** BPF_MAXINSNS. */
export const SECCOMP_MAX_INSNS = 4096;
/** sizeof(struct seccomp_data). */
export const SECCOMP_DATA_SIZE = 64;
const MEMWORDS = 16;

// Instruction classes and fields (linux/bpf_common.h).
const LD = 0x00;
const LDX = 0x01;
const ST = 0x02;
const STX = 0x03;
const ALU = 0x04;
const JMP = 0x05;
const RET = 0x06;
const MISC = 0x07;
const W = 0x00;
const IMM = 0x00;
const ABS = 0x20;
const MEM = 0x60;
const LEN = 0x80;
const K = 0x00;
const X = 0x08;
const A = 0x10;
const ADD = 0x00;
const SUB = 0x10;
const MUL = 0x20;
const DIV = 0x30;
const OR = 0x40;
const AND = 0x50;
const LSH = 0x60;
const RSH = 0x70;
const NEG = 0x80;
const XOR = 0xa0;
const JA = 0x00;
const JEQ = 0x10;
const JGT = 0x20;
const JGE = 0x30;
const JSET = 0x40;
const TAX = 0x00;
const TXA = 0x80;

/** The instruction codes seccomp accepts (seccomp_check_filter's list). */
const ALLOWED = new Set<number>([
  LD | W | ABS,
  LD | W | LEN,
  LDX | W | LEN,
  RET | K,
  RET | A,
  ...[ADD, SUB, MUL, DIV, AND, OR, XOR, LSH, RSH].flatMap((op) => [ALU | op | K, ALU | op | X]),
  ALU | NEG,
  LD | IMM,
  LDX | IMM,
  MISC | TAX,
  MISC | TXA,
  LD | MEM,
  LDX | MEM,
  ST,
  STX,
  JMP | JA,
  ...[JEQ, JGE, JGT, JSET].flatMap((op) => [JMP | op | K, JMP | op | X]),
]);

/** A checked program: struct sock_filter[] as parallel arrays. */
export interface SeccompProgram {
  readonly code: Uint16Array;
  readonly jt: Uint8Array;
  readonly jf: Uint8Array;
  readonly k: Uint32Array;
}

function decode(bytes: Uint8Array): SeccompProgram {
  const n = bytes.length / 8;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const p = {
    code: new Uint16Array(n),
    jt: new Uint8Array(n),
    jf: new Uint8Array(n),
    k: new Uint32Array(n),
  };
  for (let i = 0; i < n; i++) {
    p.code[i] = dv.getUint16(i * 8, true);
    p.jt[i] = dv.getUint8(i * 8 + 2);
    p.jf[i] = dv.getUint8(i * 8 + 3);
    p.k[i] = dv.getUint32(i * 8 + 4, true);
  }
  return p;
}

/** Every scratch word is written before it is read, on every path (check_load_and_stores). */
function storesBeforeLoads(p: SeccompProgram): boolean {
  const n = p.code.length;
  const ALL = 0xffff;
  // written[i]: the words surely written on every path that reaches i.
  const written = new Uint32Array(n).fill(ALL);
  written[0] = 0;
  for (let pc = 0; pc < n; pc++) {
    let mem = written[pc] ?? 0;
    const code = p.code[pc] ?? 0;
    const k = p.k[pc] ?? 0;
    if (code === ST || code === STX) mem |= 1 << k;
    else if ((code === (LD | MEM) || code === (LDX | MEM)) && (mem & (1 << k)) === 0) return false;
    if ((code & 0x07) === JMP) {
      const targets =
        code === (JMP | JA) ? [pc + 1 + k] : [pc + 1 + (p.jt[pc] ?? 0), pc + 1 + (p.jf[pc] ?? 0)];
      for (const t of targets) written[t] = (written[t] ?? 0) & mem;
    } else if ((code & 0x07) !== RET && pc + 1 < n) {
      written[pc + 1] = (written[pc + 1] ?? 0) & mem;
    }
  }
  return true;
}

/**
 * Checks an attached program's bytes (a whole number of 8-byte instructions, 1 to 4096 of
 * them) as Linux does: the checked program, or -EINVAL.
 */
export function checkSeccompProgram(bytes: Uint8Array): SeccompProgram | number {
  const n = bytes.length / 8;
  if (!Number.isInteger(n) || n === 0 || n > SECCOMP_MAX_INSNS) return -Errno.EINVAL;
  const p = decode(bytes);
  for (let pc = 0; pc < n; pc++) {
    const code = p.code[pc] ?? 0;
    const k = p.k[pc] ?? 0;
    if (!ALLOWED.has(code)) return -Errno.EINVAL;
    switch (code & 0x07) {
      case ALU:
        if ((code & 0xf0) === DIV && (code & X) === 0 && k === 0) return -Errno.EINVAL;
        if (((code & 0xf0) === LSH || (code & 0xf0) === RSH) && (code & X) === 0 && k >= 32)
          return -Errno.EINVAL;
        break;
      case LD:
        if (code === (LD | W | ABS) && (k >= SECCOMP_DATA_SIZE || (k & 3) !== 0))
          return -Errno.EINVAL;
        if (code === (LD | MEM) && k >= MEMWORDS) return -Errno.EINVAL;
        break;
      case LDX:
      case ST:
      case STX:
        if ((code === (LDX | MEM) || code === ST || code === STX) && k >= MEMWORDS)
          return -Errno.EINVAL;
        break;
      case JMP:
        if (code === (JMP | JA)) {
          if (k >= n - pc - 1) return -Errno.EINVAL;
        } else if (pc + (p.jt[pc] ?? 0) + 1 >= n || pc + (p.jf[pc] ?? 0) + 1 >= n) {
          return -Errno.EINVAL;
        }
        break;
      default:
        break;
    }
  }
  if (((p.code[n - 1] ?? 0) & 0x07) !== RET) return -Errno.EINVAL;
  if (!storesBeforeLoads(p)) return -Errno.EINVAL;
  return p;
}

/** Runs a checked program over one call's struct seccomp_data (64 bytes): its return value. */
export function runSeccompProgram(p: SeccompProgram, data: DataView): number {
  const mem = new Uint32Array(MEMWORDS);
  let a = 0;
  let x = 0;
  const n = p.code.length;
  for (let pc = 0; pc < n; pc++) {
    const code = p.code[pc] ?? 0;
    const k = p.k[pc] ?? 0;
    switch (code) {
      case LD | W | ABS:
        a = data.getUint32(k, true);
        break;
      case LD | W | LEN:
        a = SECCOMP_DATA_SIZE;
        break;
      case LDX | W | LEN:
        x = SECCOMP_DATA_SIZE;
        break;
      case LD | IMM:
        a = k;
        break;
      case LDX | IMM:
        x = k;
        break;
      case LD | MEM:
        a = mem[k] ?? 0;
        break;
      case LDX | MEM:
        x = mem[k] ?? 0;
        break;
      case ST:
        mem[k] = a;
        break;
      case STX:
        mem[k] = x;
        break;
      case MISC | TAX:
        x = a;
        break;
      case MISC | TXA:
        a = x;
        break;
      case RET | K:
        return k;
      case RET | A:
        return a;
      case JMP | JA:
        pc += k;
        break;
      default:
        if ((code & 0x07) === ALU) {
          // A division by a zero X ends the program with 0, as Linux's conversion does.
          if (code === (ALU | DIV | X) && x === 0) return 0;
          a = alu(code, a, (code & X) !== 0 ? x : k);
        } else if ((code & 0x07) === JMP) {
          const v = (code & X) !== 0 ? x : k;
          pc += jump(code & 0xf0, a, v) ? (p.jt[pc] ?? 0) : (p.jf[pc] ?? 0);
        } else return 0; // unreachable for a checked program: the most severe action
    }
  }
  return 0;
}

function alu(code: number, a: number, v: number): number {
  switch (code & 0xf0) {
    case ADD:
      return (a + v) >>> 0;
    case SUB:
      return (a - v) >>> 0;
    case MUL:
      return Math.imul(a, v) >>> 0;
    case DIV:
      return Math.floor(a / v) >>> 0;
    case OR:
      return (a | v) >>> 0;
    case AND:
      return (a & v) >>> 0;
    case XOR:
      return (a ^ v) >>> 0;
    case LSH:
      return (a << (v & 31)) >>> 0; // a shift count is taken mod 32, as x86 does
    case RSH:
      return a >>> (v & 31);
    case NEG:
      return -a >>> 0;
    default:
      return a;
  }
}

function jump(op: number, a: number, v: number): boolean {
  switch (op) {
    case JEQ:
      return a === v;
    case JGT:
      return a > v;
    case JGE:
      return a >= v;
    case JSET:
      return (a & v) !== 0;
    default:
      return false;
  }
}
