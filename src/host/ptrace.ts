// ptrace(2), wait4(2) and the few process calls the ptrace platform needs. Only
// src/platform/ptrace uses this file. Requests are raw numbers from <sys/ptrace.h>; every
// call returns a value or a negative errno and never throws.

import { check, libc } from './libc.js';
import { mapAnonymous, viewOf } from './memory.js';

export const PTRACE_PEEKUSER = 3;
export const PTRACE_CONT = 7;
export const PTRACE_KILL = 8;
export const PTRACE_GETREGS = 12;
export const PTRACE_SETREGS = 13;
export const PTRACE_GETFPREGS = 14;
export const PTRACE_SETFPREGS = 15;
export const PTRACE_SYSEMU = 31;
export const PTRACE_SETOPTIONS = 0x4200;
export const PTRACE_GETEVENTMSG = 0x4201;
export const PTRACE_GETSIGINFO = 0x4202;
export const PTRACE_GET_RSEQ_CONFIGURATION = 0x420f;
export const PTRACE_GETREGSET = 0x4204;
export const PTRACE_SETREGSET = 0x4205;
/** The XSAVE image (standard format), as a regset. */
export const NT_X86_XSTATE = 0x202;

export const PTRACE_O_TRACESYSGOOD = 1;
export const PTRACE_O_TRACEFORK = 2;
export const PTRACE_O_TRACECLONE = 8;
export const PTRACE_O_EXITKILL = 0x100000;

export const PTRACE_EVENT_FORK = 1;
export const PTRACE_EVENT_CLONE = 3;

export const WALL = 0x40000000;
export const WNOHANG = 1;

// SAFETY: ptrace with a data pointer: the caller passes a typed array large enough for the
// request (GETREGS/SETREGS: 27 u64; GETFPREGS: 512 bytes; GETSIGINFO: 128 bytes).
const ptraceBuf_ = libc.func('long ptrace(long, int, uint64_t, void*)');
// SAFETY: ptrace requests whose data is a value, not a pointer (CONT, SYSEMU, SETOPTIONS).
const ptraceVal_ = libc.func('long ptrace(long, int, uint64_t, uint64_t)');
// SAFETY: wait4 writes one int status into the 1-element Int32Array we pass; rusage is NULL.
const wait4_ = libc.func('int wait4(int, void*, int, void*)');
// SAFETY: kill/tgkill take numbers only.
const kill_ = libc.func('int kill(int, int)');
const tgkill_ = libc.func('int tgkill(int, int, int)');
// SAFETY: sched_setaffinity reads a cpu mask of `len` bytes from a buffer we own.
const setaffinity_ = libc.func('int sched_setaffinity(int, size_t, void*)');
const getaffinity_ = libc.func('int sched_getaffinity(int, size_t, void*)');

export function ptraceBuf(req: number, pid: number, addr: bigint, data: ArrayBufferView): number {
  return check(ptraceBuf_(req, pid, addr, data) as number);
}

export function ptraceVal(req: number, pid: number, addr: bigint, data: bigint): number {
  return check(ptraceVal_(req, pid, addr, data) as number);
}

/** wait4(pid, &status, flags); returns the pid and fills status[0], or -errno. */
export function wait4(pid: number, status: Int32Array, flags: number): number {
  return check(wait4_(pid, status, flags, null) as number);
}

export function kill(pid: number, sig: number): number {
  return check(kill_(pid, sig) as number);
}

/** A signal to one thread (tgkill(2)). */
export function tgkill(tgid: number, tid: number, sig: number): number {
  return check(tgkill_(tgid, tid, sig) as number);
}

/** Pins the calling thread to one CPU. */
export function pinToCpu(cpu: number): number {
  return pinThreadToCpu(0, cpu);
}

/** Pins thread `tid` (0: the caller) to one CPU. */
export function pinThreadToCpu(tid: number, cpu: number): number {
  const mask = new BigUint64Array(16);
  mask[cpu >> 6] = 1n << BigInt(cpu & 63);
  return check(setaffinity_(tid, mask.byteLength, mask) as number);
}

/** The CPUs the calling thread may run on. */
export function allowedCpus(): number[] {
  const mask = new BigUint64Array(16);
  if (check(getaffinity_(0, mask.byteLength, mask) as number) < 0) return [0];
  const out: number[] = [];
  for (let i = 0; i < 1024; i++) if (((mask[i >> 6] ?? 0n) >> BigInt(i & 63)) & 1n) out.push(i);
  return out;
}

export interface WaitStatus {
  exited: boolean;
  code: number;
  signaled: boolean;
  signal: number;
  stopped: boolean;
  stopSignal: number;
  /** PTRACE_EVENT_* from status >> 16. */
  event: number;
}

export function decodeWaitStatus(s: number): WaitStatus {
  const low = s & 0x7f;
  return {
    exited: low === 0,
    code: (s >> 8) & 0xff,
    signaled: low !== 0 && low !== 0x7f,
    signal: low,
    stopped: (s & 0xff) === 0x7f,
    stopSignal: (s >> 8) & 0xff,
    event: (s >> 16) & 0xff,
  };
}

/** The largest regset read or written (an XSAVE image is at most a few KiB). */
const REGSET_MAX = 16384;

/** A native buffer for regsets: an iovec at 0, the data at 64. Made on first use. */
let regset: { iov: bigint; data: Uint8Array; iovView: BigUint64Array } | undefined;

function regsetArea(): typeof regset {
  if (regset !== undefined) return regset;
  const addr = mapAnonymous(64 + REGSET_MAX);
  if (addr < 0n) return undefined;
  const buf = viewOf(addr, 64 + REGSET_MAX);
  regset = {
    iov: addr,
    data: new Uint8Array(buf, 64, REGSET_MAX),
    iovView: new BigUint64Array(buf, 0, 2),
  };
  return regset;
}

/**
 * PTRACE_GETREGSET of `type` (NT_X86_XSTATE…): a copy of the regset, or -errno.
 * SAFETY: the data pointer is an iovec in a native buffer this module owns, whose base and
 * length describe the REGSET_MAX bytes after it; the kernel writes at most that many.
 */
export function ptraceGetRegset(pid: number, type: number): Uint8Array | number {
  const a = regsetArea();
  if (a === undefined) return -12; // ENOMEM
  a.iovView[0] = a.iov + 64n;
  a.iovView[1] = BigInt(REGSET_MAX);
  const r = ptraceVal(PTRACE_GETREGSET, pid, BigInt(type), a.iov);
  if (r < 0) return r;
  return a.data.slice(0, Number(a.iovView[1] ?? 0n));
}

/**
 * PTRACE_SETREGSET of `type` from `data`; 0 or -errno.
 * SAFETY: as ptraceGetRegset; the kernel reads data.length (at most REGSET_MAX) bytes.
 */
export function ptraceSetRegset(pid: number, type: number, data: Uint8Array): number {
  const a = regsetArea();
  if (a === undefined) return -12;
  if (data.length > REGSET_MAX) return -22; // EINVAL
  a.data.set(data);
  a.iovView[0] = a.iov + 64n;
  a.iovView[1] = BigInt(data.length);
  return ptraceVal(PTRACE_SETREGSET, pid, BigInt(type), a.iov);
}
