// The vDSO image: a tiny ELF shared object the Sentry builds at boot (machine code from our
// own assembler) and maps into every process, announced by AT_SYSINFO_EHDR. Its functions
// (clock_gettime, gettimeofday, time, getcpu) answer from the parameter page ("vvar", the page
// just below the image) without a system call: time is the TSC scaled by the Sentry's
// calibration, the CPU is the host CPU's index in a table the Sentry fills. Whatever they cannot
// answer (another clock, calibration not ready or not trusted) they pass on to the real,
// trapped system call, which the Sentry emulates as before.
//
// It must never write anything but the caller's own result pointers, never read outside the
// parameter page, and never run a system call other than the one whose answer it stands for.
// glibc, musl and Go look the functions up by name through DT_HASH/DT_SYMTAB; there is no
// version table (they then accept the unversioned symbols) and no section headers.

import { Assembler } from '../../platform/asm/x86_64.js';

export const VDSO_PAGE = 4096;

/** The parameter page's layout (byte offsets); the Sentry writes it, the image reads it. */
export const VVAR = {
  /** u32 sequence: odd while the Sentry updates the page. */
  seq: 0,
  /** u32: 1 when the TSC path may be used, else every call goes to the system call. */
  enabled: 4,
  /** u64: the TSC value the bases refer to. */
  tscBase: 8,
  /** u64: nanoseconds per TSC cycle, << 32. */
  mult: 16,
  /** i64[8]: each clock's nanoseconds at tscBase, by clock id (2 and 3 unused). */
  base: 24,
  /** u8[1024]: the sandbox's CPU number for each host CPU. */
  cpuTable: 128,
  cpuTableSize: 1024,
} as const;

/** The clock ids the image answers itself; the others go to the system call. */
export const VDSO_CLOCKS = [0, 1, 4, 5, 6, 7] as const;

const SYS_gettimeofday = 96;
const SYS_time = 201;
const SYS_clock_gettime = 228;
const SYS_getcpu = 309;
/** The per-CPU segment selector whose limit holds (node << 12) | cpu (Linux x86-64). */
const CPUNODE_SEG = 0x7b;
const NS_PER_S = 1_000_000_000;

/** Where the code starts in the image: after the headers and tables. */
const TEXT_OFF = 0x400;

export interface VdsoImage {
  /** The image, a whole number of pages. */
  bytes: Uint8Array;
  /** Offsets of the exported functions, by symbol name. */
  symbols: ReadonlyMap<string, number>;
  listing: string;
}

function assembleCode(): Assembler {
  const a = new Assembler();
  // The parameter page sits one page below the image; the code starts TEXT_OFF into it.
  const vvar = -(TEXT_OFF + VDSO_PAGE);
  a.label('text');

  // int clock_gettime(clockid_t clock /*edi*/, struct timespec *ts /*rsi*/)
  a.label('clock_gettime')
    .mov32('rdi', 'rdi')
    .cmpImm('rdi', 7)
    .jcc('a', 'cg_sys')
    .cmpImm('rdi', 2)
    .jcc('e', 'cg_sys')
    .cmpImm('rdi', 3)
    .jcc('e', 'cg_sys')
    .mov('r11', 'rdi')
    .call('now')
    .cmpImm('rax', -1)
    .jcc('e', 'cg_sys')
    .movImm('rcx', NS_PER_S)
    .zero('rdx')
    .div('rcx')
    .store('rsi', 0, 'rax')
    .store('rsi', 8, 'rdx')
    .zero('rax')
    .ret()
    .label('cg_sys')
    .movImm('rax', SYS_clock_gettime)
    .syscall()
    .ret();

  // int gettimeofday(struct timeval *tv /*rdi*/, struct timezone *tz /*rsi*/)
  a.label('gettimeofday')
    .zero('r11')
    .call('now')
    .cmpImm('rax', -1)
    .jcc('e', 'gtod_sys')
    .test('rdi', 'rdi')
    .jcc('e', 'gtod_tz')
    .movImm('rcx', 1000)
    .zero('rdx')
    .div('rcx')
    .movImm('rcx', 1_000_000)
    .zero('rdx')
    .div('rcx')
    .store('rdi', 0, 'rax')
    .store('rdi', 8, 'rdx')
    .label('gtod_tz')
    .test('rsi', 'rsi')
    .jcc('e', 'gtod_done')
    .zero('rax')
    .store('rsi', 0, 'rax')
    .label('gtod_done')
    .zero('rax')
    .ret()
    .label('gtod_sys')
    .movImm('rax', SYS_gettimeofday)
    .syscall()
    .ret();

  // time_t time(time_t *tloc /*rdi*/)
  a.label('time')
    .zero('r11')
    .call('now')
    .cmpImm('rax', -1)
    .jcc('e', 'time_sys')
    .movImm('rcx', NS_PER_S)
    .zero('rdx')
    .div('rcx')
    .test('rdi', 'rdi')
    .jcc('e', 'time_done')
    .store('rdi', 0, 'rax')
    .label('time_done')
    .ret()
    .label('time_sys')
    .movImm('rax', SYS_time)
    .syscall()
    .ret();

  // int getcpu(unsigned *cpu /*rdi*/, unsigned *node /*rsi*/, void *cache /*rdx*/)
  a.label('getcpu')
    .movImm('rcx', CPUNODE_SEG)
    .lsl('rax', 'rcx')
    .jcc('ne', 'getcpu_sys')
    .andImm('rax', 0xfff)
    .cmpImm('rax', VVAR.cpuTableSize - 1)
    .jcc('a', 'getcpu_sys')
    .leaRip('r8', 'text', vvar)
    .add('r8', 'rax')
    .loadByte('rcx', 'r8', VVAR.cpuTable)
    .test('rdi', 'rdi')
    .jcc('e', 'getcpu_node')
    .store32('rdi', 0, 'rcx')
    .label('getcpu_node')
    .test('rsi', 'rsi')
    .jcc('e', 'getcpu_done')
    .zero('rcx')
    .store32('rsi', 0, 'rcx')
    .label('getcpu_done')
    .zero('rax')
    .ret()
    .label('getcpu_sys')
    .movImm('rax', SYS_getcpu)
    .syscall()
    .ret();

  // now: r11 = clock id; returns rax = that clock's nanoseconds, or -1 when the page says
  // not to use the TSC. Clobbers rcx, rdx, r8, r9, r10 (never rdi or rsi).
  a.label('now')
    .leaRip('r8', 'text', vvar)
    .label('now_retry')
    .load32('r9', 'r8', VVAR.seq)
    .load32('rax', 'r8', VVAR.enabled)
    .test('rax', 'rax')
    .jcc('e', 'now_off')
    .mov('rax', 'r9')
    .andImm('rax', 1)
    .jcc('ne', 'now_retry')
    .lfence()
    .rdtsc()
    .shlImm('rdx', 32)
    .or('rax', 'rdx')
    .load('rcx', 'r8', VVAR.tscBase)
    .sub('rax', 'rcx')
    .jcc('ns', 'now_fwd')
    .zero('rax') // a TSC behind the base (another CPU's, a hair late): the base itself
    .label('now_fwd')
    .load('rcx', 'r8', VVAR.mult)
    .mul('rcx')
    .shrd('rax', 'rdx', 32)
    .mov('r10', 'r11')
    .shlImm('r10', 3)
    .add('r10', 'r8')
    .load('rcx', 'r10', VVAR.base)
    .add('rax', 'rcx')
    .load32('r10', 'r8', VVAR.seq)
    .cmp('r9', 'r10')
    .jcc('ne', 'now_retry')
    .ret()
    .label('now_off')
    .movImm('rax', -1)
    .ret();
  return a;
}

const EXPORTS: ReadonlyArray<[string, string]> = [
  ['__vdso_clock_gettime', 'clock_gettime'],
  ['__vdso_gettimeofday', 'gettimeofday'],
  ['__vdso_time', 'time'],
  ['__vdso_getcpu', 'getcpu'],
  ['clock_gettime', 'clock_gettime'],
  ['gettimeofday', 'gettimeofday'],
  ['time', 'time'],
  ['getcpu', 'getcpu'],
];

const SONAME = 'linux-vdso.so.1';
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT = { NULL: 0, HASH: 4, STRTAB: 5, SYMTAB: 6, STRSZ: 10, SYMENT: 11, SONAME: 14 };
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STT_FUNC = 2;

/** Builds the image: ELF header, two program headers, hash, symbols, strings, dynamic, code. */
export function buildVdsoImage(): VdsoImage {
  const a = assembleCode();
  const code = a.assemble();

  // Strings: "\0" soname names…
  const strs: number[] = [0];
  const strOff = (s: string): number => {
    const at = strs.length;
    for (const b of Buffer.from(s, 'latin1')) strs.push(b);
    strs.push(0);
    return at;
  };
  const sonameAt = strOff(SONAME);
  const nameAt = EXPORTS.map(([n]) => strOff(n));
  const nsyms = EXPORTS.length + 1;

  const phoff = 64;
  const phnum = 2;
  const hashOff = phoff + phnum * 56;
  const hashLen = (2 + 1 + nsyms) * 4;
  const symOff = align(hashOff + hashLen, 8);
  const strTabOff = symOff + nsyms * 24;
  const dynOff = align(strTabOff + strs.length, 8);
  const dynEntries = 7;
  const dynEnd = dynOff + dynEntries * 16;
  if (dynEnd > TEXT_OFF) throw new Error('vdso: tables overflow the code offset');
  const size = align(TEXT_OFF + code.length, VDSO_PAGE);
  const img = new Uint8Array(size);
  const dv = new DataView(img.buffer);

  // ELF header (ET_DYN, x86-64, no section headers).
  img.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  dv.setUint16(16, 3, true);
  dv.setUint16(18, 62, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(TEXT_OFF + a.labelOffset('clock_gettime')), true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, phnum, true);
  dv.setUint16(58, 64, true);

  const phdr = (i: number, type: number, flags: number, off: number, len: number, al: number) => {
    const p = phoff + i * 56;
    dv.setUint32(p, type, true);
    dv.setUint32(p + 4, flags, true);
    dv.setBigUint64(p + 8, BigInt(off), true);
    dv.setBigUint64(p + 16, BigInt(off), true);
    dv.setBigUint64(p + 24, BigInt(off), true);
    dv.setBigUint64(p + 32, BigInt(len), true);
    dv.setBigUint64(p + 40, BigInt(len), true);
    dv.setBigUint64(p + 48, BigInt(al), true);
  };
  phdr(0, PT_LOAD, 4 | 1, 0, size, VDSO_PAGE);
  phdr(1, PT_DYNAMIC, 4, dynOff, dynEntries * 16, 8);

  // SysV hash with one bucket: the chain walks every symbol.
  dv.setUint32(hashOff, 1, true);
  dv.setUint32(hashOff + 4, nsyms, true);
  dv.setUint32(hashOff + 8, 1, true);
  for (let i = 0; i < nsyms; i++) {
    const next = i === 0 || i === nsyms - 1 ? 0 : i + 1;
    dv.setUint32(hashOff + 12 + i * 4, next, true);
  }

  const symbols = new Map<string, number>();
  EXPORTS.forEach(([name, label], i) => {
    const p = symOff + (i + 1) * 24;
    const value = TEXT_OFF + a.labelOffset(label);
    const bind = name.startsWith('__vdso_') ? STB_GLOBAL : STB_WEAK;
    dv.setUint32(p, nameAt[i] ?? 0, true);
    img[p + 4] = (bind << 4) | STT_FUNC;
    img[p + 5] = 0;
    dv.setUint16(p + 6, 1, true); // defined (any section index but SHN_UNDEF and SHN_ABS)
    dv.setBigUint64(p + 8, BigInt(value), true);
    dv.setBigUint64(p + 16, 0n, true);
    symbols.set(name, value);
  });
  img.set(strs, strTabOff);

  const dyn: Array<[number, number]> = [
    [DT.HASH, hashOff],
    [DT.STRTAB, strTabOff],
    [DT.SYMTAB, symOff],
    [DT.STRSZ, strs.length],
    [DT.SYMENT, 24],
    [DT.SONAME, sonameAt],
    [DT.NULL, 0],
  ];
  dyn.forEach(([tag, val], i) => {
    dv.setBigInt64(dynOff + i * 16, BigInt(tag), true);
    dv.setBigUint64(dynOff + i * 16 + 8, BigInt(val), true);
  });
  img.set(code, TEXT_OFF);
  return { bytes: img, symbols, listing: a.listing() };
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
