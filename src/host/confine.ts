// Confinement calls for the Sentry's own process: drop every capability of the calling thread
// (effective, permitted, inheritable, ambient, bounding) and set no_new_privs. The Sentry runs
// in a user namespace of its own, so its other threads hold no capability on the host either.
// Nothing here may ever raise a privilege.

import { check, checkBig, koffi, libc } from './libc.js';

// SAFETY: capset reads an 8-byte header and two 12-byte data structs from buffers we own.
const capset_ = libc.func('int capset(void*, void*)');
// SAFETY: prctl with integer arguments only.
const prctl_ = libc.func(
  'int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)',
);

const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** Drops every capability of the calling thread; 0 or the first -errno. */
export function dropAllCapabilities(): number {
  for (let cap = 0; cap < 64; cap++) {
    const r = check(prctl_(PR_CAPBSET_DROP, cap, 0, 0, 0) as number);
    if (r < 0) break; // EINVAL past the last capability the kernel knows
  }
  const amb = check(prctl_(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) as number);
  if (amb < 0) return amb;
  const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
  const data = new Uint32Array(6);
  return check(capset_(header, data) as number);
}

/**
 * Keeps only `caps` (capability numbers) in the calling thread's effective and permitted sets,
 * drops every other capability from the bounding set, clears inheritable and ambient.
 */
export function keepOnlyCapabilities(caps: readonly number[]): number {
  for (let cap = 0; cap < 64; cap++) {
    if (caps.includes(cap)) continue;
    const r = check(prctl_(PR_CAPBSET_DROP, cap, 0, 0, 0) as number);
    if (r < 0) break;
  }
  const amb = check(prctl_(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) as number);
  if (amb < 0) return amb;
  let lo = 0;
  let hi = 0;
  for (const c of caps) {
    if (c < 32) lo |= 1 << c;
    else hi |= 1 << (c - 32);
  }
  const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
  // struct __user_cap_data_struct[2]: { effective, permitted, inheritable } for bits 0-31, 32-63.
  const data = new Uint32Array([lo >>> 0, lo >>> 0, 0, hi >>> 0, hi >>> 0, 0]);
  return check(capset_(header, data) as number);
}

const PR_SET_PDEATHSIG = 1;

/**
 * Asks the kernel to send `signo` to this process when its parent (the thread that made it)
 * ends. The kernel clears this at an exec that raises capabilities, as entering a Gofer's
 * user namespace does: the Gofer sets it again itself.
 */
export function setParentDeathSignal(signo: number): number {
  return check(prctl_(PR_SET_PDEATHSIG, signo, 0, 0, 0) as number);
}

const PR_SET_DUMPABLE = 4;

/**
 * Makes the process non-dumpable: no core dumps of Sentry memory, and no ptrace or
 * /proc/<pid>/mem access to it by processes without CAP_SYS_PTRACE over its user namespace.
 */
export function setNotDumpable(): number {
  return check(prctl_(PR_SET_DUMPABLE, 0, 0, 0, 0) as number);
}

export function setNoNewPrivs(): number {
  return check(prctl_(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as number);
}

// SAFETY: seccomp(2) reads a struct sock_fprog from the 16-byte buffer we pass, whose filter
// pointer names an anonymous mapping of ours that holds the program during the call.
const seccomp_ = libc.func('long syscall(long, long, long, void*)');
// SAFETY: an anonymous private mapping, owned here until the filter is installed.
const mmapAnon_ = libc.func('uint64_t mmap(uint64_t, size_t, int, int, int, int64_t)');
const munmap_ = libc.func('int munmap(uint64_t, size_t)');

const SYS_seccomp = 317;
const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_FILTER_FLAG_TSYNC = 1;
/** The kernel logs every action of the filter but ALLOW (dmesg: audit type=1326, syscall=N). */
export const SECCOMP_FILTER_FLAG_LOG = 2;

/** Installs a classic-BPF seccomp filter on the calling thread (all threads with TSYNC). */
export function installSeccompFilter(program: Uint8Array, flags: number): number {
  const len = Math.ceil(program.length / 4096) * 4096;
  const addr = checkBig(mmapAnon_(0n, len, 3, 0x22, -1, 0) as bigint);
  if (addr < 0n) return Number(addr);
  new Uint8Array(koffi.view(addr, len)).set(program);
  const fprog = new BigUint64Array([BigInt(program.length / 8), addr]);
  const r = check(seccomp_(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, fprog) as number);
  munmap_(addr, len);
  return r;
}
