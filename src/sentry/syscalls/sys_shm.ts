// System V shared memory: shmget, shmat, shmdt, shmctl. A segment is an anonymous shared
// memory object (mm/anon_object.ts) registered by key and id in the sandbox's one IPC
// namespace; attaching maps it as a MAP_SHARED mapping, so processes see each other's
// writes. A removed segment (IPC_RMID) lives until its last attachment goes.
//
// It must never free a segment's pages while any address space maps it, and never grant an
// attach the segment's mode does not allow.

import { Errno } from '../../abi/linux/errno.js';
import { CAP_IPC_OWNER, CAP_SYS_ADMIN } from '../../abi/linux/capability.js';
import { capable } from '../kernel/credentials.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/task.js';
import { AnonObject } from '../mm/anon_object.js';
import { PAGE } from '../mm/memory_file.js';
import {
  MAP_FIXED,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  pageUp,
} from '../mm/memory_manager.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

const IPC_PRIVATE = 0;
const IPC_CREAT = 0o1000;
const IPC_EXCL = 0o2000;
const IPC_RMID = 0;
const IPC_SET = 1;
const IPC_STAT = 2;
const IPC_INFO = 3;
const SHM_LOCK = 11;
const SHM_UNLOCK = 12;
const SHM_STAT = 13;
const SHM_INFO = 14;
const SHM_STAT_ANY = 15;
const IPC_64 = 0x100;
const SHM_RDONLY = 0o10000;
const SHM_RND = 0o20000;
const SHM_REMAP = 0o40000;
const SHM_EXEC = 0o100000;
const SHM_DEST = 0o1000;
const SHM_LOCKED = 0o2000;
const SHMMNI = 4096;
const SHMMAX = 0xffffffffffffffffn - (1n << 24n);
const SHMALL = 0xffffffffffffffffn - (1n << 24n);
const SHMMIN = 1n;
const PAGE_N = BigInt(PAGE);

interface Segment {
  id: number;
  key: number;
  size: bigint;
  obj: AnonObject;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  mode: number;
  seq: number;
  atime: number;
  dtime: number;
  ctime: number;
  cpid: number;
  lpid: number;
  removed: boolean;
  locked: boolean;
}

interface Registry {
  byId: Map<number, Segment>;
  nextSeq: number;
}

const registries = new WeakMap<Kernel, Registry>();

function registry(k: Kernel): Registry {
  let r = registries.get(k);
  if (r === undefined) {
    r = { byId: new Map(), nextSeq: 0 };
    registries.set(k, r);
  }
  // Removed segments whose last attachment went with an exit or exec.
  for (const s of r.byId.values()) if (s.removed && s.obj.mappings <= 0) r.byId.delete(s.id);
  return r;
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** ipcperms: whether `t` may access `s` for reading (and writing when `write`). */
function permitted(t: Task, s: Segment, write: boolean): boolean {
  const c = t.creds;
  const want = write ? 0o6 : 0o4;
  let bits = s.mode & 0o7;
  if (c.euid === s.uid || c.euid === s.cuid) bits = (s.mode >> 6) & 0o7;
  else if (c.groups.includes(s.gid) || c.egid === s.gid || c.egid === s.cgid)
    bits = (s.mode >> 3) & 0o7;
  return (bits & want) === want || capable(c, CAP_IPC_OWNER);
}

/** A removed segment no one maps any more leaves the registry (its object freed itself). */
function destroyIfUnused(k: Kernel, s: Segment): void {
  if (!s.removed) return;
  s.obj.pinned = false;
  if (s.obj.mappings > 0) return;
  s.obj.maybeFree();
  registry(k).byId.delete(s.id);
}

/** Implements Linux syscall shmget(2). */
function shmget(t: Task, a: readonly bigint[]): number {
  const key = int(a[0] ?? 0n);
  const size = a[1] ?? 0n;
  const flg = int(a[2] ?? 0n);
  const reg = registry(t.kernel);
  if (key !== IPC_PRIVATE) {
    for (const s of reg.byId.values()) {
      if (s.key !== key || s.removed) continue;
      if ((flg & IPC_CREAT) !== 0 && (flg & IPC_EXCL) !== 0) return -Errno.EEXIST;
      if (size > s.size) return -Errno.EINVAL;
      const want = flg & 0o777;
      if (want !== 0 && !permitted(t, s, (want & 0o222) !== 0)) return -Errno.EACCES;
      return s.id;
    }
    if ((flg & IPC_CREAT) === 0) return -Errno.ENOENT;
  }
  if (size < SHMMIN || size > SHMMAX) return -Errno.EINVAL;
  if (reg.byId.size >= SHMMNI) return -Errno.ENOSPC;
  let idx = 0;
  const used = new Set([...reg.byId.values()].map((s) => s.id & 0x7fff));
  while (used.has(idx)) idx++;
  const seq = reg.nextSeq++ & 0xffff;
  const id = seq * 0x8000 + idx;
  const obj = new AnonObject(t.mm.mf, Number(size));
  obj.pinned = true;
  const c = t.creds;
  const s: Segment = {
    id,
    key,
    size,
    obj,
    uid: c.euid,
    gid: c.egid,
    cuid: c.euid,
    cgid: c.egid,
    mode: flg & 0o777,
    seq,
    atime: 0,
    dtime: 0,
    ctime: nowSec(),
    cpid: t.tgid,
    lpid: 0,
    removed: false,
    locked: false,
  };
  reg.byId.set(id, s);
  return id;
}

/** Implements Linux syscall shmat(2). */
function shmat(t: Task, a: readonly bigint[]): bigint {
  const s = registry(t.kernel).byId.get(int(a[0] ?? 0n));
  if (s === undefined) return -BigInt(Errno.EINVAL);
  let addr = a[1] ?? 0n;
  const flg = int(a[2] ?? 0n);
  if (addr % PAGE_N !== 0n) {
    if ((flg & SHM_RND) === 0) return -BigInt(Errno.EINVAL);
    addr -= addr % PAGE_N;
  }
  const rdonly = (flg & SHM_RDONLY) !== 0;
  if (!permitted(t, s, !rdonly)) return -BigInt(Errno.EACCES);
  const prot = PROT_READ | (rdonly ? 0 : PROT_WRITE) | ((flg & SHM_EXEC) !== 0 ? PROT_EXEC : 0);
  const len = pageUp(s.size);
  let flags = MAP_SHARED;
  if (addr !== 0n) {
    if (
      (flg & SHM_REMAP) === 0 &&
      t.mm.mappings().some((v) => v.start < addr + len && addr < v.end)
    )
      return -BigInt(Errno.EINVAL);
    flags |= MAP_FIXED;
  } else if ((flg & SHM_REMAP) !== 0) return -BigInt(Errno.EINVAL);
  const r = t.mm.mmap(
    addr,
    len,
    prot,
    flags,
    `/SYSV${(s.key >>> 0).toString(16).padStart(8, '0')} (deleted)`,
    {
      obj: s.obj,
      objOff: 0,
      maxProt: prot,
      shmid: s.id,
    },
  );
  if (r < 0n) return r === -BigInt(Errno.EEXIST) ? -BigInt(Errno.EINVAL) : r;
  s.atime = nowSec();
  s.lpid = t.tgid;
  return r;
}

/** Implements Linux syscall shmdt(2): detaches the segment attached at `addr`. */
function shmdt(t: Task, a: readonly bigint[]): number {
  const addr = a[0] ?? 0n;
  if (addr % PAGE_N !== 0n) return -Errno.EINVAL;
  const first = t.mm.mappings().find((v) => v.start === addr && v.shmid >= 0);
  if (first === undefined) return -Errno.EINVAL;
  const s = registry(t.kernel).byId.get(first.shmid);
  const end = addr + pageUp(s?.size ?? first.end - first.start);
  // Every piece of this attachment (mprotect may have split it) within the segment's size.
  const pieces = t.mm
    .mappings()
    .filter(
      (v) =>
        v.shmid === first.shmid &&
        v.start >= addr &&
        v.end <= end &&
        v.objOff === Number(v.start - addr),
    );
  for (const v of pieces) t.mm.munmap(v.start, v.end - v.start);
  if (s !== undefined) {
    s.dtime = nowSec();
    s.lpid = t.tgid;
    destroyIfUnused(t.kernel, s);
  }
  return 0;
}

function encodeShmid(s: Segment): Uint8Array {
  const b = new Uint8Array(112);
  const v = new DataView(b.buffer);
  v.setInt32(0, s.removed ? IPC_PRIVATE : s.key, true);
  v.setUint32(4, s.uid, true);
  v.setUint32(8, s.gid, true);
  v.setUint32(12, s.cuid, true);
  v.setUint32(16, s.cgid, true);
  v.setUint16(20, s.mode | (s.removed ? SHM_DEST : 0) | (s.locked ? SHM_LOCKED : 0), true);
  v.setUint16(24, s.seq, true);
  v.setBigUint64(48, s.size, true);
  v.setBigInt64(56, BigInt(s.atime), true);
  v.setBigInt64(64, BigInt(s.dtime), true);
  v.setBigInt64(72, BigInt(s.ctime), true);
  v.setInt32(80, s.cpid, true);
  v.setInt32(84, s.lpid, true);
  v.setBigUint64(88, BigInt(s.obj.mappings), true);
  return b;
}

/** Implements Linux syscall shmctl(2). */
function shmctl(t: Task, a: readonly bigint[]): number {
  const reg = registry(t.kernel);
  const id = int(a[0] ?? 0n);
  const cmd = int(a[1] ?? 0n) & ~IPC_64;
  const buf = a[2] ?? 0n;
  if (id < 0) return -Errno.EINVAL;
  if (cmd === IPC_INFO) {
    const b = new Uint8Array(72);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, SHMMAX, true);
    v.setBigUint64(8, SHMMIN, true);
    v.setBigUint64(16, BigInt(SHMMNI), true);
    v.setBigUint64(24, BigInt(SHMMNI), true);
    v.setBigUint64(32, SHMALL, true);
    const r = t.mem.copyOut(buf, b);
    if (r < 0) return r;
    return Math.max(0, ...[...reg.byId.values()].map((s) => s.id & 0x7fff));
  }
  if (cmd === SHM_INFO) {
    const b = new Uint8Array(56);
    const v = new DataView(b.buffer);
    v.setInt32(0, reg.byId.size, true);
    let pages = 0;
    for (const s of reg.byId.values()) pages += s.obj.cache.count;
    v.setBigUint64(8, BigInt(pages), true);
    v.setBigUint64(16, BigInt(pages), true);
    const r = t.mem.copyOut(buf, b);
    if (r < 0) return r;
    return Math.max(0, ...[...reg.byId.values()].map((s) => s.id & 0x7fff));
  }
  const s =
    cmd === SHM_STAT || cmd === SHM_STAT_ANY
      ? [...reg.byId.values()].find((x) => (x.id & 0x7fff) === id)
      : reg.byId.get(id);
  if (s === undefined) return -Errno.EINVAL;
  const owner = (): boolean =>
    t.creds.euid === s.uid || t.creds.euid === s.cuid || capable(t.creds, CAP_SYS_ADMIN);
  switch (cmd) {
    case IPC_STAT:
    case SHM_STAT:
    case SHM_STAT_ANY: {
      if (cmd !== SHM_STAT_ANY && !permitted(t, s, false)) return -Errno.EACCES;
      const r = t.mem.copyOut(buf, encodeShmid(s));
      if (r < 0) return r;
      return cmd === IPC_STAT ? 0 : s.id;
    }
    case IPC_SET: {
      const b = t.mem.copyIn(buf, 112);
      if (typeof b === 'number') return b;
      if (!owner()) return -Errno.EPERM;
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      s.uid = v.getUint32(4, true);
      s.gid = v.getUint32(8, true);
      s.mode = (s.mode & ~0o777) | (v.getUint16(20, true) & 0o777);
      s.ctime = nowSec();
      return 0;
    }
    case IPC_RMID:
      if (!owner()) return -Errno.EPERM;
      s.removed = true;
      s.ctime = nowSec();
      destroyIfUnused(t.kernel, s);
      return 0;
    case SHM_LOCK:
    case SHM_UNLOCK:
      if (!owner()) return -Errno.EPERM;
      s.locked = cmd === SHM_LOCK;
      return 0;
    default:
      return -Errno.EINVAL;
  }
}

export const shmSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [29, { name: 'shmget', handler: shmget, support: 'full' }],
  [30, { name: 'shmat', handler: shmat, support: 'full' }],
  [67, { name: 'shmdt', handler: shmdt, support: 'full' }],
  [
    31,
    {
      name: 'shmctl',
      handler: shmctl,
      support: 'partial',
      note: 'IPC_STAT/SET/RMID, IPC_INFO, SHM_INFO, SHM_STAT(_ANY), SHM_LOCK/UNLOCK (no effect)',
    },
  ],
]);
