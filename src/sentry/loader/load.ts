// The program loader: maps an ELF executable (and its PT_INTERP dynamic loader) into a fresh
// address space and builds the initial stack (argc, argv, envp, auxv with AT_RANDOM, AT_PHDR,
// AT_ENTRY, AT_BASE…), as Linux's binfmt_elf does. Segments are copied from the file into
// memory-file pages (private file mappings), whole pages at a time so that two segments that
// share a page both keep their bytes.
//
// It must never trust the file: sizes and offsets are bounded (elf.ts), and every failure is
// an errno for execve, not a throw. The kernel's vDSO (kernel/vdso.ts) is mapped by a callback
// and announced as AT_SYSINFO_EHDR.

import { Errno } from '../../abi/linux/errno.js';
import { PAGE } from '../mm/memory_file.js';
import {
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_ANONYMOUS,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  pageUp,
  type MemoryManager,
} from '../mm/memory_manager.js';
import {
  ET_DYN,
  PF_R,
  PF_W,
  PF_X,
  PT_INTERP,
  PT_LOAD,
  PT_PHDR,
  parseElfHeader,
  parseProgramHeaders,
  type ProgramHeader,
} from './elf.js';

/** What the loader needs of an open file. */
export interface ExecFile {
  pread(dst: Uint8Array, offset: number): number;
}

export type OpenExec = (path: string) => ExecFile | number;

export interface LoadParams {
  path: string;
  argv: string[];
  envp: string[];
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  hwcap: bigint;
  hwcap2: bigint;
  random: Uint8Array;
  /** RLIMIT_STACK's soft limit (bytes; undefined or RLIM_INFINITY: the default 8 MiB). */
  stackLimit?: bigint | undefined;
  /** Maps the vDSO into the new address space: its address, or -errno. */
  vdso?: ((mm: MemoryManager) => bigint) | undefined;
}

export interface LoadResult {
  entry: bigint;
  sp: bigint;
}

const PIE_BASE = 0x555555554000n;
const STACK_SIZE = 8n << 20n;
const STACK_MIN = 128n << 10n;
const STACK_MAX = 4n << 30n;
const RLIM_INFINITY = 0xffffffffffffffffn;

/** The stack reserved for a program: RLIMIT_STACK (clamped), 8 MiB when unlimited. */
function stackSize(limit: bigint | undefined): bigint {
  if (limit === undefined || limit === RLIM_INFINITY) return STACK_SIZE;
  const l = limit & ~(PAGE_N - 1n);
  return l < STACK_MIN ? STACK_MIN : l > STACK_MAX ? STACK_MAX : l;
}
const STACK_GAP = 0x10000000n;
const PAGE_N = BigInt(PAGE);
const MAX_ARG_BYTES = 2 << 20;

interface Loaded {
  bias: bigint;
  entry: bigint;
  phdrAddr: bigint;
  phnum: number;
  end: bigint;
  interp?: string;
}

function readExact(f: ExecFile, len: number, offset: number): Uint8Array | number {
  const buf = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const n = f.pread(buf.subarray(done), offset + done);
    if (n < 0) return n;
    if (n === 0) return -Errno.ENOEXEC;
    done += n;
  }
  return buf;
}

function protOf(flags: number): number {
  return (
    (flags & PF_R ? PROT_READ : 0) |
    (flags & PF_W ? PROT_WRITE : 0) |
    (flags & PF_X ? PROT_EXEC : 0)
  );
}

/** Maps one ELF object; `isMain` chooses the PIE base, otherwise the mmap area. */
function loadObject(mm: MemoryManager, f: ExecFile, isMain: boolean): Loaded | number {
  const hb = readExact(f, 64, 0);
  if (typeof hb === 'number') return hb;
  const hdr = parseElfHeader(hb);
  if (typeof hdr === 'number') return hdr;
  if (hdr.phoff > 1n << 32n) return -Errno.ENOEXEC;
  const pb = readExact(f, hdr.phnum * 56, Number(hdr.phoff));
  if (typeof pb === 'number') return pb;
  const phdrs = parseProgramHeaders(pb, hdr.phnum);
  if (typeof phdrs === 'number') return phdrs;
  const loads = phdrs.filter((p) => p.type === PT_LOAD);
  if (loads.length === 0) return -Errno.ENOEXEC;
  const first = loads[0] as ProgramHeader;
  const lo = first.vaddr & ~(PAGE_N - 1n);
  let hi = 0n;
  for (const p of loads) if (p.vaddr + p.memsz > hi) hi = p.vaddr + p.memsz;
  const span = pageUp(hi) - lo;

  let bias = 0n;
  if (hdr.type === ET_DYN) {
    if (isMain) bias = PIE_BASE - lo;
    else {
      // Reserve the whole span to choose a base, then map segments over it.
      const base = mm.mmap(0n, span, 0, MAP_PRIVATE | MAP_ANONYMOUS, 'ld');
      if (base < 0n) return Number(base);
      mm.munmap(base, span);
      bias = base - lo;
    }
  }

  let interp: string | undefined;
  for (const p of phdrs) {
    if (p.type !== PT_INTERP) continue;
    if (p.filesz < 2n || p.filesz > 4096n) return -Errno.ENOEXEC;
    const ib = readExact(f, Number(p.filesz), Number(p.offset));
    if (typeof ib === 'number') return ib;
    const z = ib.indexOf(0);
    interp = Buffer.from(ib.subarray(0, z < 0 ? ib.length : z)).toString('utf8');
  }

  for (const p of loads) {
    const pageStart = (p.vaddr & ~(PAGE_N - 1n)) + bias;
    const pageOff = p.vaddr % PAGE_N;
    const end = pageUp(p.vaddr + p.memsz) + bias;
    const fileStart = Number(p.offset - pageOff);
    const fileLen = Number(pageOff + p.filesz);
    const r = mm.mmap(
      pageStart,
      end - pageStart,
      protOf(p.flags),
      MAP_PRIVATE | MAP_FIXED,
      'elf',
      (start) => {
        if (fileLen === 0) return 0;
        const data = readExact(f, fileLen, fileStart);
        if (typeof data === 'number') return data;
        return mm.copyOutForce(start, data);
      },
    );
    if (r < 0n) return Number(r);
  }

  let phdrAddr = 0n;
  const phdrSeg = phdrs.find((p) => p.type === PT_PHDR);
  if (phdrSeg) phdrAddr = phdrSeg.vaddr + bias;
  else {
    const containing = loads.find((p) => p.offset <= hdr.phoff && hdr.phoff < p.offset + p.filesz);
    if (containing) phdrAddr = containing.vaddr + (hdr.phoff - containing.offset) + bias;
  }
  const loaded: Loaded = {
    bias,
    entry: hdr.entry + bias,
    phdrAddr,
    phnum: hdr.phnum,
    end: pageUp(hi) + bias,
  };
  if (interp !== undefined) loaded.interp = interp;
  return loaded;
}

const AT = {
  NULL: 0,
  PHDR: 3,
  PHENT: 4,
  PHNUM: 5,
  PAGESZ: 6,
  BASE: 7,
  FLAGS: 8,
  ENTRY: 9,
  UID: 11,
  EUID: 12,
  GID: 13,
  EGID: 14,
  PLATFORM: 15,
  HWCAP: 16,
  CLKTCK: 17,
  SECURE: 23,
  RANDOM: 25,
  HWCAP2: 26,
  EXECFN: 31,
  SYSINFO_EHDR: 33,
} as const;

/**
 * Loads `params.path` into `mm` (which must be empty) and builds the initial stack.
 * Steps: 1. map the executable; 2. map its interpreter, if any; 3. set up brk; 4. map the
 * stack; 5. write strings, then auxv/envp/argv/argc with rsp 16-byte aligned at argc.
 */
export function loadProgram(
  mm: MemoryManager,
  open: OpenExec,
  params: LoadParams,
): LoadResult | number {
  let argBytes = 0;
  for (const s of [...params.argv, ...params.envp]) argBytes += Buffer.byteLength(s) + 1;
  if (argBytes > MAX_ARG_BYTES) return -Errno.E2BIG;

  const stackTop = (mm.maxAddr - STACK_GAP) & ~(PAGE_N - 1n);
  const stack = stackSize(params.stackLimit);
  mm.mmapTop = stackTop - stack - STACK_GAP;

  // 1. The executable.
  const f = open(params.path);
  if (typeof f === 'number') return f;
  const main = loadObject(mm, f, true);
  if (typeof main === 'number') return main;

  // 2. The interpreter.
  let entry = main.entry;
  let interpBase = 0n;
  if (main.interp !== undefined) {
    const fi = open(main.interp);
    if (typeof fi === 'number') return fi === -Errno.ENOENT ? -Errno.ENOENT : fi;
    const ld = loadObject(mm, fi, false);
    if (typeof ld === 'number') return ld;
    if (ld.interp !== undefined) return -Errno.ELIBBAD;
    entry = ld.entry;
    interpBase = ld.bias;
  }

  // 3. brk starts above the executable.
  mm.brkStart = main.end;
  mm.brkEnd = main.end;

  // 4. The stack.
  const stackLo = stackTop - stack;
  const s = mm.mmap(
    stackLo,
    stack,
    PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
    '[stack]',
  );
  if (s < 0n) return Number(s);
  let vdso = 0n;
  if (params.vdso !== undefined) {
    vdso = params.vdso(mm);
    if (vdso < 0n) return Number(vdso);
  }

  // 5. Strings, then the vectors.
  let sp = stackTop;
  const push = (bytes: Uint8Array): bigint => {
    sp -= BigInt(bytes.length);
    mm.copyOut(sp, bytes);
    return sp;
  };
  const cstr = (x: string): Uint8Array => Buffer.concat([Buffer.from(x, 'utf8'), Buffer.from([0])]);
  push(new Uint8Array(8)); // end marker
  const execfn = push(cstr(params.path));
  const envPtrs = params.envp.map((e) => push(cstr(e)));
  const argPtrs = params.argv.map((a) => push(cstr(a)));
  const platform = push(cstr('x86_64'));
  const random = push(params.random.subarray(0, 16));
  sp &= ~15n;

  const auxv: Array<[number, bigint]> = [
    ...(vdso !== 0n ? ([[AT.SYSINFO_EHDR, vdso]] as Array<[number, bigint]>) : []),
    [AT.PHDR, main.phdrAddr],
    [AT.PHENT, 56n],
    [AT.PHNUM, BigInt(main.phnum)],
    [AT.PAGESZ, PAGE_N],
    [AT.BASE, interpBase],
    [AT.FLAGS, 0n],
    [AT.ENTRY, main.entry],
    [AT.UID, BigInt(params.uid)],
    [AT.EUID, BigInt(params.euid)],
    [AT.GID, BigInt(params.gid)],
    [AT.EGID, BigInt(params.egid)],
    [AT.SECURE, 0n],
    [AT.CLKTCK, 100n],
    [AT.HWCAP, params.hwcap],
    [AT.HWCAP2, params.hwcap2],
    [AT.RANDOM, random],
    [AT.PLATFORM, platform],
    [AT.EXECFN, execfn],
    [AT.NULL, 0n],
  ];
  const words: bigint[] = [BigInt(params.argv.length), ...argPtrs, 0n, ...envPtrs, 0n];
  for (const [k, v] of auxv) words.push(BigInt(k), v);
  if (words.length % 2 === 1) sp -= 8n; // keep rsp 16-aligned at argc
  const vec = new BigUint64Array(words);
  sp -= BigInt(vec.byteLength);
  if (mm.copyOut(sp, new Uint8Array(vec.buffer)) < 0) return -Errno.EFAULT;
  return { entry, sp };
}
