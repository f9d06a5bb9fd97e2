// ELF64 parsing for the loader: the file header and program headers of x86-64 executables
// (ET_EXEC and ET_DYN, with or without PT_INTERP). The file is hostile: every field is
// checked against the file's size and sane limits, and a bad file yields -ENOEXEC, never a
// throw or a read outside the bytes given.

import { Errno } from '../../abi/linux/errno.js';

export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_GNU_STACK = 0x6474e551;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
export const ET_EXEC = 2;
export const ET_DYN = 3;

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export interface ElfInfo {
  type: number;
  entry: bigint;
  phoff: bigint;
  phentsize: number;
  phnum: number;
  phdrs: ProgramHeader[];
}

const MAX_PHNUM = 128;

/** Parses the ELF header from the first bytes of a file; needs at least 64 bytes. */
export function parseElfHeader(h: Uint8Array): Omit<ElfInfo, 'phdrs'> | number {
  if (h.length < 64) return -Errno.ENOEXEC;
  if (h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) return -Errno.ENOEXEC;
  if (h[4] !== 2 || h[5] !== 1) return -Errno.ENOEXEC; // ELFCLASS64, little endian
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== 62 || (type !== ET_EXEC && type !== ET_DYN)) return -Errno.ENOEXEC;
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize !== 56 || phnum === 0 || phnum > MAX_PHNUM) return -Errno.ENOEXEC;
  return {
    type,
    entry: dv.getBigUint64(24, true),
    phoff: dv.getBigUint64(32, true),
    phentsize,
    phnum,
  };
}

/** Parses `phnum` program headers from `b`, which holds them contiguously. */
export function parseProgramHeaders(b: Uint8Array, phnum: number): ProgramHeader[] | number {
  if (b.length < phnum * 56) return -Errno.ENOEXEC;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = i * 56;
    const ph: ProgramHeader = {
      type: dv.getUint32(o, true),
      flags: dv.getUint32(o + 4, true),
      offset: dv.getBigUint64(o + 8, true),
      vaddr: dv.getBigUint64(o + 16, true),
      filesz: dv.getBigUint64(o + 32, true),
      memsz: dv.getBigUint64(o + 40, true),
      align: dv.getBigUint64(o + 48, true),
    };
    if (ph.type === PT_LOAD) {
      if (ph.filesz > ph.memsz) return -Errno.ENOEXEC;
      if (ph.memsz > 1n << 40n || ph.vaddr > 1n << 47n) return -Errno.ENOEXEC;
      if (ph.offset % 4096n !== ph.vaddr % 4096n) return -Errno.ENOEXEC;
    }
    out.push(ph);
  }
  return out;
}
