// Credentials: the get and set families of user and group ids, supplementary groups, and the
// capability sets (capget/capset). The identities are the container's (from config.json's
// process.user), kept by the Sentry; the host's are never shown, and no host id changes.
// The rules (who may set what, and what capabilities follow) live in kernel/credentials.ts.

import { CAP_FULL_SET, CAP_SETGID } from '../../abi/linux/capability.js';
import {
  capable,
  capset,
  setfsgid,
  setfsuid,
  setgid,
  setregid,
  setresgid,
  setresuid,
  setreuid,
  setuid,
} from '../kernel/credentials.js';
import { Errno } from '../../abi/linux/errno.js';
import type { Task } from '../kernel/task.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

const NGROUPS_MAX = 65536;

function putIds(t: Task, ptrs: readonly bigint[], ids: number[]): number {
  for (let i = 0; i < 3; i++) {
    const b = new Uint8Array(new Uint32Array([ids[i] ?? 0]).buffer);
    const r = t.mem.copyOut(ptrs[i] ?? 0n, b);
    if (r < 0) return r;
  }
  return 0;
}

/** Implements Linux syscall getgroups(2). */
function getgroups(t: Task, a: readonly bigint[]): number {
  const size = int(a[0] ?? 0n);
  const groups = t.creds.groups;
  if (size < 0) return -Errno.EINVAL;
  if (size === 0) return groups.length;
  if (size < groups.length) return -Errno.EINVAL;
  const r = t.mem.copyOut(a[1] ?? 0n, new Uint8Array(new Uint32Array(groups).buffer));
  return r < 0 ? r : groups.length;
}

/** Implements Linux syscall setgroups(2): needs CAP_SETGID; at most NGROUPS_MAX groups. */
function setgroups(t: Task, a: readonly bigint[]): number {
  const size = int(a[0] ?? 0n);
  if (size < 0 || size > NGROUPS_MAX) return -Errno.EINVAL;
  if (!capable(t.creds, CAP_SETGID)) return -Errno.EPERM;
  const b = size === 0 ? new Uint8Array(0) : t.mem.copyIn(a[1] ?? 0n, size * 4);
  if (typeof b === 'number') return b;
  const ids = new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + size * 4));
  t.creds.groups = [...new Set(ids)].sort((x, y) => x - y);
  return 0;
}

const CAP_V1 = 0x19980330;
const CAP_V2 = 0x20071026;
const CAP_V3 = 0x20080522;

/** The header of capget/capset: its version (ENOSYS-free: a wrong one is answered with v3). */
function capHeader(t: Task, ptr: bigint): { words: number; pid: number } | number {
  const h = t.mem.copyIn(ptr, 8);
  if (typeof h === 'number') return h;
  const dv = new DataView(h.buffer, h.byteOffset, 8);
  const version = dv.getUint32(0, true);
  const pid = dv.getInt32(4, true);
  if (version === CAP_V1) return { words: 1, pid };
  if (version === CAP_V2 || version === CAP_V3) return { words: 2, pid };
  const fix = new Uint8Array(4);
  new DataView(fix.buffer).setUint32(0, CAP_V3, true);
  const r = t.mem.copyOut(ptr, fix);
  return r < 0 ? r : -Errno.EINVAL;
}

/** Implements Linux syscall capget(2). */
function capget(t: Task, a: readonly bigint[]): number {
  const h = capHeader(t, a[0] ?? 0n);
  // A version probe (no data pointer) succeeds once the preferred version is written.
  if (h === -Errno.EINVAL && (a[1] ?? 0n) === 0n) return 0;
  if (typeof h === 'number') return h;
  if (h.pid < 0) return -Errno.EINVAL;
  const target = h.pid === 0 ? t : t.kernel.tasks.get(h.pid);
  if (target === undefined) return -Errno.ESRCH;
  const dataPtr = a[1] ?? 0n;
  if (dataPtr === 0n) return 0;
  const c = target.creds;
  const out = new Uint32Array(h.words * 3);
  for (let w = 0; w < h.words; w++) {
    const shift = BigInt(32 * w);
    out[w * 3] = Number((c.capEff >> shift) & 0xffffffffn);
    out[w * 3 + 1] = Number((c.capPrm >> shift) & 0xffffffffn);
    out[w * 3 + 2] = Number((c.capInh >> shift) & 0xffffffffn);
  }
  const r = t.mem.copyOut(dataPtr, new Uint8Array(out.buffer));
  return r < 0 ? r : 0;
}

/** Implements Linux syscall capset(2): the caller's own sets only (pid 0 or its own). */
function capsetCall(t: Task, a: readonly bigint[]): number {
  const h = capHeader(t, a[0] ?? 0n);
  if (typeof h === 'number') return h;
  if (h.pid !== 0 && h.pid !== t.tid) return -Errno.EPERM;
  const b = t.mem.copyIn(a[1] ?? 0n, h.words * 12);
  if (typeof b === 'number') return b;
  const v = new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + h.words * 12));
  const set = (i: number): bigint => {
    let m = 0n;
    for (let w = 0; w < h.words; w++) m |= BigInt(v[w * 3 + i] ?? 0) << BigInt(32 * w);
    // Bits past the last capability are ignored, as the kernel masks them.
    return m & CAP_FULL_SET;
  };
  return capset(t.creds, set(0), set(1), set(2));
}

/** Runs a set-id rule on the calling thread's credentials. */
function ids(f: (c: Task['creds'], ...v: number[]) => number, n: number) {
  return (t: Task, a: readonly bigint[]): number => {
    const v: number[] = [];
    for (let i = 0; i < n; i++) v.push(Number(BigInt.asIntN(32, a[i] ?? 0n)));
    return f(t.creds, ...v);
  };
}

export const identitySyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [102, { name: 'getuid', handler: (t) => t.creds.uid, support: 'full' }],
  [104, { name: 'getgid', handler: (t) => t.creds.gid, support: 'full' }],
  [107, { name: 'geteuid', handler: (t) => t.creds.euid, support: 'full' }],
  [108, { name: 'getegid', handler: (t) => t.creds.egid, support: 'full' }],
  [
    118,
    {
      name: 'getresuid',
      handler: (t, a) => putIds(t, a, [t.creds.uid, t.creds.euid, t.creds.suid]),
      support: 'full',
    },
  ],
  [
    120,
    {
      name: 'getresgid',
      handler: (t, a) => putIds(t, a, [t.creds.gid, t.creds.egid, t.creds.sgid]),
      support: 'full',
    },
  ],
  [115, { name: 'getgroups', handler: getgroups, support: 'full' }],
  [116, { name: 'setgroups', handler: setgroups, support: 'full' }],
  [105, { name: 'setuid', handler: ids((c, u) => setuid(c, u ?? 0), 1), support: 'full' }],
  [106, { name: 'setgid', handler: ids((c, g) => setgid(c, g ?? 0), 1), support: 'full' }],
  [
    113,
    {
      name: 'setreuid',
      handler: ids((c, r, e) => setreuid(c, r ?? -1, e ?? -1), 2),
      support: 'full',
    },
  ],
  [
    114,
    {
      name: 'setregid',
      handler: ids((c, r, e) => setregid(c, r ?? -1, e ?? -1), 2),
      support: 'full',
    },
  ],
  [
    117,
    {
      name: 'setresuid',
      handler: ids((c, r, e, s) => setresuid(c, r ?? -1, e ?? -1, s ?? -1), 3),
      support: 'full',
    },
  ],
  [
    119,
    {
      name: 'setresgid',
      handler: ids((c, r, e, s) => setresgid(c, r ?? -1, e ?? -1, s ?? -1), 3),
      support: 'full',
    },
  ],
  [122, { name: 'setfsuid', handler: ids((c, u) => setfsuid(c, u ?? -1), 1), support: 'full' }],
  [123, { name: 'setfsgid', handler: ids((c, g) => setfsgid(c, g ?? -1), 1), support: 'full' }],
  [125, { name: 'capget', handler: capget, support: 'full' }],
  [126, { name: 'capset', handler: capsetCall, support: 'full' }],
]);
