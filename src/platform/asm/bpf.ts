// A small classic-BPF builder for seccomp filters (struct sock_filter programs), with labels.
// Used for the Sentry's own filter and the ptrace stubs' filter. It must never emit a jump it
// cannot encode (8-bit offsets, forward only): such a program is refused at build time.

import { SECCOMP_DATA_SIZE, checkSeccompProgram, runSeccompProgram } from './seccomp_bpf.js';

export const BPF_LD_W_ABS = 0x20;
export const BPF_JEQ_K = 0x15;
export const BPF_JGE_K = 0x35;
export const BPF_JSET_K = 0x45;
export const BPF_RET_K = 0x06;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const AUDIT_ARCH_X86_64 = 0xc000003e;

/** Offsets in struct seccomp_data. */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export function seccompArgLo(i: number): number {
  return 16 + 8 * i;
}
export function seccompArgHi(i: number): number {
  return 16 + 8 * i + 4;
}

type Target = string | number; // a label, or 0 for "next instruction"

interface Insn {
  code: number;
  k: number;
  jt: Target;
  jf: Target;
}

export class BpfProgram {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`bpf: label ${name} defined twice`);
    this.labels.set(name, this.insns.length);
    return this;
  }

  loadWord(offset: number): this {
    this.insns.push({ code: BPF_LD_W_ABS, k: offset, jt: 0, jf: 0 });
    return this;
  }

  /** if (A == k) goto jt else goto jf. */
  jeq(k: number, jt: Target, jf: Target = 0): this {
    this.insns.push({ code: BPF_JEQ_K, k: k >>> 0, jt, jf });
    return this;
  }

  /** if (A & k) goto jt else goto jf. */
  jset(k: number, jt: Target, jf: Target = 0): this {
    this.insns.push({ code: BPF_JSET_K, k: k >>> 0, jt, jf });
    return this;
  }

  jge(k: number, jt: Target, jf: Target = 0): this {
    this.insns.push({ code: BPF_JGE_K, k: k >>> 0, jt, jf });
    return this;
  }

  /** if (args[i] == v) goto jt else goto jf, on both 32-bit halves (0 <= v < 2^32). */
  argEq(i: number, v: number, jt: Target, jf: Target): this {
    return this.loadWord(seccompArgHi(i)).jeq(0, 0, jf).loadWord(seccompArgLo(i)).jeq(v, jt, jf);
  }

  ret(k: number): this {
    this.insns.push({ code: BPF_RET_K, k: k >>> 0, jt: 0, jf: 0 });
    return this;
  }

  get length(): number {
    return this.insns.length;
  }

  /** The program as struct sock_filter[] bytes. */
  assemble(): Uint8Array {
    const out = new Uint8Array(this.insns.length * 8);
    const dv = new DataView(out.buffer);
    this.insns.forEach((ins, i) => {
      const off = (t: Target): number => {
        if (typeof t === 'number') return t;
        const at = this.labels.get(t);
        if (at === undefined) throw new Error(`bpf: undefined label ${t}`);
        const rel = at - i - 1;
        if (rel < 0 || rel > 255) throw new Error(`bpf: jump to ${t} out of range (${rel})`);
        return rel;
      };
      dv.setUint16(i * 8, ins.code, true);
      dv.setUint8(i * 8 + 2, off(ins.jt));
      dv.setUint8(i * 8 + 3, off(ins.jf));
      dv.setUint32(i * 8 + 4, ins.k, true);
    });
    return out;
  }
}

/**
 * A call allowed only when its arguments pass a check: `emit` loads what it needs and jumps
 * to `allow` or `deny` (both labels exist in the program).
 */
export interface CheckedCall {
  nr: number;
  emit(p: BpfProgram, allow: string, deny: string): void;
}

export interface AllowListPolicy {
  /** Allowed whatever their arguments (hot calls first: the chain is tested in order). */
  allow: Iterable<number>;
  /** Allowed with argument checks. */
  checked?: readonly CheckedCall[];
  /** Calls answered with a given errno instead of the default (say ENOSYS for clone3). */
  errno?: ReadonlyMap<number, number>;
  /** The errno of every other call (EPERM by default). */
  defaultErrno?: number;
}

/**
 * A seccomp allow list: x32 and foreign-architecture calls kill the process; the listed calls
 * are allowed (checked ones only with acceptable arguments); everything else fails with the
 * default errno.
 */
export function allowListFilter(policy: AllowListPolicy): Uint8Array {
  const EPERM = 1;
  const deflt = policy.defaultErrno ?? EPERM;
  const p = new BpfProgram();
  p.loadWord(SECCOMP_DATA_ARCH)
    .jeq(AUDIT_ARCH_X86_64, 0, 'kill')
    .loadWord(SECCOMP_DATA_NR)
    .jge(0x40000000, 'kill');
  const checked = policy.checked ?? [];
  for (const c of checked) p.jeq(c.nr, `check_${c.nr}`);
  const errnos = new Set<number>();
  for (const [nr, e] of policy.errno ?? []) {
    p.jeq(nr, `errno_${e}`);
    errnos.add(e);
  }
  for (const nr of policy.allow) p.jeq(nr, 'allow');
  p.ret(SECCOMP_RET_ERRNO | deflt);
  for (const c of checked) {
    p.label(`check_${c.nr}`);
    c.emit(p, 'allow', 'deny');
  }
  for (const e of errnos) p.label(`errno_${e}`).ret(SECCOMP_RET_ERRNO | e);
  p.label('deny').ret(SECCOMP_RET_ERRNO | deflt);
  p.label('allow').ret(SECCOMP_RET_ALLOW).label('kill').ret(SECCOMP_RET_KILL_PROCESS);
  return p.assemble();
}

/**
 * What a seccomp program answers for one call: checked and run by the interpreter the Sentry
 * runs applications' filters with (seccomp_bpf.ts). Throws on a program Linux would refuse
 * (tests of the programs built here).
 */
export function runFilter(
  program: Uint8Array,
  nr: number,
  args: readonly bigint[] = [],
  arch = AUDIT_ARCH_X86_64,
): number {
  const p = checkSeccompProgram(program);
  if (typeof p === 'number') throw new Error(`bpf: a program Linux refuses (${p})`);
  const data = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  data.setUint32(SECCOMP_DATA_NR, nr >>> 0, true);
  data.setUint32(SECCOMP_DATA_ARCH, arch >>> 0, true);
  args.forEach((a, i) => data.setBigUint64(16 + 8 * i, BigInt.asUintN(64, a), true));
  return runSeccompProgram(p, data) >>> 0;
}
