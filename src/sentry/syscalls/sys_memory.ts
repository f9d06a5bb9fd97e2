// Memory system calls: brk, mmap, munmap, mprotect, mremap, madvise, msync, mincore, the
// mlock family and memfd_create. File mappings map the file's memory object (tmpfs files
// directly, other files through a page cache written back on msync, fsync and the last
// munmap); MAP_SHARED anonymous memory is an object every mapping of it shares across fork.
//
// It must never let a mapping exceed what the file was opened for (EACCES), and never map
// what has no bytes to map (ENODEV).

import { Errno } from '../../abi/linux/errno.js';
import { O_PATH, S_IFCHR, S_IFMT } from '../../abi/linux/file.js';
import {
  F_SEAL_FUTURE_WRITE,
  F_SEAL_SEAL,
  TmpfsFile,
  TmpfsFilesystem,
} from '../fsimpl/tmpfs/tmpfs.js';
import { CAP_IPC_LOCK } from '../../abi/linux/capability.js';
import { capable } from '../kernel/credentials.js';
import type { Task } from '../kernel/task.js';
import { AnonObject } from '../mm/anon_object.js';
import { PAGE } from '../mm/memory_file.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  pageUp,
} from '../mm/memory_manager.js';
import { FileDescription } from '../vfs/file_description.js';
import { fileMappable } from '../vfs/file_mapping.js';
import { pathString } from '../vfs/mount.js';
import { int, long } from './args.js';
import type { SyscallEntry } from './types.js';

const MAP_SHARED_VALIDATE = 0x03;
const MAP_TYPE = 0x0f;
/** Flags mmap knows; MAP_SHARED_VALIDATE refuses others (EOPNOTSUPP). */
const MAP_KNOWN =
  MAP_TYPE |
  MAP_FIXED |
  MAP_ANONYMOUS |
  MAP_GROWSDOWN |
  0x800 /* DENYWRITE */ |
  0x1000 /* EXECUTABLE */ |
  0x2000 /* LOCKED */ |
  0x4000 /* NORESERVE */ |
  0x8000 /* POPULATE */ |
  0x10000 /* NONBLOCK */ |
  0x20000 /* STACK */ |
  0x40000 /* HUGETLB */ |
  0x80000 /* SYNC */ |
  MAP_FIXED_NOREPLACE |
  (0x3f << 26); /* huge page size bits */
const PAGE_N = BigInt(PAGE);
const KNOWN_PROT = PROT_READ | PROT_WRITE | PROT_EXEC;
const RLIMIT_DATA = 2;
const RLIMIT_AS = 9;
const RLIMIT_MEMLOCK = 8;
const RLIM_INFINITY = 0xffffffffffffffffn;

/** Implements Linux syscall brk(2). */
function brk(t: Task, a: readonly bigint[]): bigint {
  const want = a[0] ?? 0n;
  // RLIMIT_AS (and RLIMIT_DATA for the heap): a break that would pass it stays where it is.
  const grow = pageUp(want) - pageUp(t.mm.brkEnd);
  if (want > t.mm.brkEnd && !withinLimits(t, grow, grow)) {
    return t.mm.brkEnd;
  }
  return t.mm.brk(want);
}

/**
 * may_expand_vm: `len` more bytes of address space, `data` of them private and writable (the
 * heap, or a private writable mapping), fit RLIMIT_AS and RLIMIT_DATA. Data is what Linux
 * counts as data_vm: private writable mappings but the stack.
 */
function withinLimits(t: Task, len: bigint, data: bigint): boolean {
  const as = t.rlimits.get(RLIMIT_AS)?.cur;
  const dl = data > 0n ? t.rlimits.get(RLIMIT_DATA)?.cur : undefined;
  const asSet = as !== undefined && as !== RLIM_INFINITY;
  const dlSet = dl !== undefined && dl !== RLIM_INFINITY;
  if (!asSet && !dlSet) return true;
  let total = 0n;
  let dataVm = 0n;
  for (const v of t.mm.mappings()) {
    total += v.end - v.start;
    if ((v.prot & PROT_WRITE) !== 0 && (v.flags & MAP_SHARED) === 0 && v.name !== '[stack]') {
      dataVm += v.end - v.start;
    }
  }
  if (asSet && total + len > as) return false;
  if (dlSet && dataVm + data > dl) return false;
  return true;
}

/** True for /dev/zero (character device 1:5), whose mappings are anonymous memory. */
function isDevZero(f: FileDescription): boolean {
  if ((f.inode.type & S_IFMT) !== S_IFCHR) return false;
  const st = f.stat();
  return typeof st !== 'number' && st.rdev === (1 << 8) + 5;
}

/** How /proc/PID/maps names a mapping of `f`. */
function mapName(t: Task, f: FileDescription): string {
  if (f.path === null) return 'file';
  return pathString(f.path, t.fs.root) ?? 'file';
}

/** Implements Linux syscall mmap(2). */
function mmap(t: Task, a: readonly bigint[]): bigint | number {
  const addr = a[0] ?? 0n;
  const length = a[1] ?? 0n;
  const prot = int(a[2] ?? 0n);
  const flags = int(a[3] ?? 0n);
  const fd = int(a[4] ?? 0n);
  const offset = long(a[5] ?? 0n);
  if ((prot & ~(KNOWN_PROT | 0x01000000 | 0x02000000)) !== 0) return -Errno.EINVAL;
  const type = flags & MAP_TYPE;
  if (type !== MAP_PRIVATE && type !== MAP_SHARED && type !== MAP_SHARED_VALIDATE)
    return -Errno.EINVAL;
  if (type === MAP_SHARED_VALIDATE && (flags & ~MAP_KNOWN) !== 0) return -Errno.EOPNOTSUPP;
  if (length === 0n || offset % PAGE_N !== 0n || offset < 0n) return -Errno.EINVAL;
  if (pageUp(length) === 0n || pageUp(length) > t.mm.maxAddr) return -Errno.ENOMEM;
  const shared = type !== MAP_PRIVATE;
  const placement = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
  const kind = (shared ? MAP_SHARED : MAP_PRIVATE) | placement | (flags & MAP_GROWSDOWN);
  const privateWrite = !shared && (prot & PROT_WRITE) !== 0;
  if (!withinLimits(t, pageUp(length), privateWrite ? pageUp(length) : 0n)) return -Errno.ENOMEM;
  const anonShared = (): bigint =>
    t.mm.mmap(addr, length, prot, kind, '/dev/zero (deleted)', {
      obj: new AnonObject(t.mm.mf, Number(pageUp(length))),
    });
  if ((flags & MAP_ANONYMOUS) !== 0) {
    if (shared) return anonShared();
    return t.mm.mmap(addr, length, prot, kind, flags & MAP_GROWSDOWN ? '[stack]' : '[anon]');
  }
  const file = t.files.get(fd);
  if (file === undefined || (file.flags & O_PATH) !== 0) return -Errno.EBADF;
  if (!file.readable) return -Errno.EACCES;
  if (shared && (prot & PROT_WRITE) !== 0 && !file.writable) return -Errno.EACCES;
  if (isDevZero(file)) return shared ? anonShared() : t.mm.mmap(addr, length, prot, kind, '[anon]');
  if (Number(offset) + Number(pageUp(length)) > Number.MAX_SAFE_INTEGER) return -Errno.EOVERFLOW;
  const obj = fileMappable(file, t.mm.mf);
  if (typeof obj === 'number') return obj;
  if (shared && obj instanceof TmpfsFile && !obj.mayMapShared() && (prot & PROT_WRITE) !== 0)
    return -Errno.EPERM;
  const maxProt = shared ? PROT_READ | PROT_EXEC | (file.writable ? PROT_WRITE : 0) : KNOWN_PROT;
  return t.mm.mmap(addr, length, prot, kind, mapName(t, file), {
    obj,
    objOff: Number(offset),
    file,
    maxProt,
  });
}

/** Implements Linux syscall munmap(2). */
function munmap(t: Task, a: readonly bigint[]): number {
  return t.mm.munmap(a[0] ?? 0n, a[1] ?? 0n);
}

/** Implements Linux syscall mprotect(2). PROT_GROWSDOWN/UP are not supported (EINVAL). */
function mprotect(t: Task, a: readonly bigint[]): number {
  const prot = int(a[2] ?? 0n);
  if ((prot & ~KNOWN_PROT) !== 0) return -Errno.EINVAL;
  return t.mm.mprotect(a[0] ?? 0n, a[1] ?? 0n, prot);
}

/** Implements Linux syscall mremap(2). */
function mremap(t: Task, a: readonly bigint[]): bigint {
  const oldLen = a[1] ?? 0n;
  const newLen = a[2] ?? 0n;
  if (newLen > oldLen && !withinLimits(t, pageUp(newLen) - pageUp(oldLen), 0n))
    return -BigInt(Errno.ENOMEM);
  return t.mm.mremap(a[0] ?? 0n, oldLen, newLen, int(a[3] ?? 0n), a[4] ?? 0n);
}

const MADV_NORMAL = 0;
const MADV_RANDOM = 1;
const MADV_SEQUENTIAL = 2;
const MADV_WILLNEED = 3;
const MADV_DONTNEED = 4;
const MADV_FREE = 8;
const MADV_REMOVE = 9;
const MADV_DONTFORK = 10;
const MADV_DOFORK = 11;
const MADV_MERGEABLE = 12;
const MADV_UNMERGEABLE = 13;
const MADV_HUGEPAGE = 14;
const MADV_NOHUGEPAGE = 15;
const MADV_DONTDUMP = 16;
const MADV_DODUMP = 17;
const MADV_WIPEONFORK = 18;
const MADV_KEEPONFORK = 19;
const MADV_COLD = 20;
const MADV_PAGEOUT = 21;
const MADV_POPULATE_READ = 22;
const MADV_POPULATE_WRITE = 23;

/** Advice that only hints: accepted on any mapped range, nothing to do. */
const HINTS = new Set([
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MADV_MERGEABLE,
  MADV_UNMERGEABLE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_DONTDUMP,
  MADV_DODUMP,
  MADV_COLD,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
]);

/**
 * Implements Linux syscall madvise(2). DONTNEED and FREE give private pages back (they read
 * as zeros, or the file, afterwards); DONTFORK/WIPEONFORK shape fork; REMOVE is refused on
 * private memory as on Linux; the rest are hints.
 */
function madvise(t: Task, a: readonly bigint[]): number {
  const addr = a[0] ?? 0n;
  const len = a[1] ?? 0n;
  const advice = int(a[2] ?? 0n);
  if (addr % PAGE_N !== 0n || len < 0n) return -Errno.EINVAL;
  const known =
    HINTS.has(advice) ||
    [
      MADV_DONTNEED,
      MADV_FREE,
      MADV_REMOVE,
      MADV_DONTFORK,
      MADV_DOFORK,
      MADV_WIPEONFORK,
      MADV_KEEPONFORK,
    ].includes(advice);
  if (!known) return -Errno.EINVAL;
  if (len === 0n) return 0;
  if (addr + pageUp(len) > t.mm.maxAddr) return -Errno.ENOMEM;
  switch (advice) {
    case MADV_DONTNEED:
      return t.mm.dontNeed(addr, len);
    case MADV_FREE:
      return t.mm.dontNeed(addr, len, true);
    case MADV_REMOVE:
      return t.mm.removeRange(addr, len);
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE:
      return t.mm.populateRange(addr, len, advice === MADV_POPULATE_WRITE);
    case MADV_DONTFORK:
    case MADV_DOFORK:
      return t.mm.setForkAdvice(addr, len, 'dontFork', advice === MADV_DONTFORK);
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
      return t.mm.setForkAdvice(addr, len, 'wipeOnFork', advice === MADV_WIPEONFORK);
    default:
      return t.mm.isMapped(addr, len) ? 0 : -Errno.ENOMEM;
  }
}

const MS_ASYNC = 1;
const MS_INVALIDATE = 2;
const MS_SYNC = 4;

/** Implements Linux syscall msync(2): shared file pages of the range are written back. */
function msync(t: Task, a: readonly bigint[]): number {
  const addr = a[0] ?? 0n;
  const flags = int(a[2] ?? 0n);
  if (addr % PAGE_N !== 0n) return -Errno.EINVAL;
  if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) !== 0) return -Errno.EINVAL;
  if ((flags & MS_ASYNC) !== 0 && (flags & MS_SYNC) !== 0) return -Errno.EINVAL;
  const len = a[1] ?? 0n;
  if (len === 0n) return 0;
  return t.mm.sync(addr, len);
}

/** Pages of mincore's vector made and copied out at a time (the range may be terabytes). */
const MINCORE_CHUNK = 1n << 16n;

/** Implements Linux syscall mincore(2): 1 for each page backed by memory now. */
function mincore(t: Task, a: readonly bigint[]): number {
  const addr = a[0] ?? 0n;
  const len = a[1] ?? 0n;
  const vec = a[2] ?? 0n;
  if (addr % PAGE_N !== 0n) return -Errno.EINVAL;
  const end = addr + pageUp(len);
  if (end > t.mm.maxAddr || end < addr) return -Errno.ENOMEM;
  if (len === 0n) return 0;
  if (!t.mm.isMapped(addr, len)) return -Errno.ENOMEM;
  for (let at = addr; at < end; at += MINCORE_CHUNK * PAGE_N) {
    const n = end - at < MINCORE_CHUNK * PAGE_N ? end - at : MINCORE_CHUNK * PAGE_N;
    const part = t.mm.residency(at, n);
    if (typeof part === 'number') return part;
    const r = t.mem.copyOut(vec + (at - addr) / PAGE_N, part);
    if (r < 0) return r;
  }
  return 0;
}

/**
 * mlock/munlock/mlock2: the range must be mapped (ENOMEM); locking populates it (unless
 * MLOCK_ONFAULT) and marks it locked. Memory is never paged out of the memory file behind
 * the application's back, so that is all locking means here.
 */
function mlockRange(t: Task, a: readonly bigint[], lock: boolean, checkFlags: boolean): number {
  const flags = checkFlags ? int(a[2] ?? 0n) : 0;
  if ((flags & ~MLOCK_ONFAULT) !== 0) return -Errno.EINVAL;
  const addr = (a[0] ?? 0n) & ~(PAGE_N - 1n);
  const len = pageUp((a[1] ?? 0n) + ((a[0] ?? 0n) - addr));
  if (len === 0n) return 0;
  if (addr + len > t.mm.maxAddr) return -Errno.ENOMEM;
  if (lock && !capable(t.creds, CAP_IPC_LOCK)) {
    // RLIMIT_MEMLOCK bounds what an unprivileged process may lock (EPERM when it is 0).
    const lim = t.rlimits.get(RLIMIT_MEMLOCK)?.cur ?? RLIM_INFINITY;
    if (lim === 0n) return -Errno.EPERM;
    let locked = 0n;
    for (const v of t.mm.mappings()) if (v.locked) locked += v.end - v.start;
    if (lim !== RLIM_INFINITY && locked + len > lim) return -Errno.ENOMEM;
  }
  return t.mm.lock(addr, len, lock, (flags & MLOCK_ONFAULT) === 0);
}

const MLOCK_ONFAULT = 1;

const MCL_CURRENT = 1;
const MCL_FUTURE = 2;
const MCL_ONFAULT = 4;

function mlockall(_t: Task, a: readonly bigint[]): number {
  const f = int(a[0] ?? 0n);
  if (f === 0 || (f & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) !== 0) return -Errno.EINVAL;
  if (f === MCL_ONFAULT) return -Errno.EINVAL;
  return 0;
}

const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const MFD_HUGETLB = 4;
const MFD_NOEXEC_SEAL = 8;
const MFD_EXEC = 0x10;
const O_RDWR = 2;
const O_LARGEFILE = 0o100000;

/** The file system memfds live in (Linux's shmem internal mount). */
let memfdFs: TmpfsFilesystem | undefined;

/** Implements Linux syscall memfd_create(2): an unlinked tmpfs file, sealable on request. */
function memfdCreate(t: Task, a: readonly bigint[]): number {
  const flags = int(a[1] ?? 0n);
  if ((flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC)) !== 0)
    return (flags & MFD_HUGETLB) !== 0 ? -Errno.EINVAL : -Errno.EINVAL;
  if ((flags & MFD_NOEXEC_SEAL) !== 0 && (flags & MFD_EXEC) !== 0) return -Errno.EINVAL;
  const name = t.mem.copyInString(a[0] ?? 0n, 249);
  if (typeof name === 'number') return name === -Errno.ENAMETOOLONG ? -Errno.EINVAL : name;
  memfdFs ??= new TmpfsFilesystem({ name: 'memfd', mode: 0o777 });
  const inode = new TmpfsFile(memfdFs, 0o100777, t.creds.fsuid, t.creds.fsgid);
  inode.nlink = 0;
  inode.seals = (flags & MFD_ALLOW_SEALING) !== 0 ? 0 : F_SEAL_SEAL;
  if ((flags & MFD_NOEXEC_SEAL) !== 0) inode.seals = 0;
  const impl = inode.open(O_RDWR);
  if (typeof impl === 'number') return impl;
  const f = new FileDescription(inode, null, impl, O_RDWR | O_LARGEFILE);
  f.memfdName = `memfd:${name}`;
  const fd = t.files.install(f, (flags & MFD_CLOEXEC) !== 0);
  if (fd < 0) f.decRef();
  return fd;
}

/** F_ADD_SEALS / F_GET_SEALS for fcntl(2): seals of a memfd, EINVAL for other files. */
export function fileSeals(f: FileDescription, add: number | null): number {
  const inode = f.inode;
  if (!(inode instanceof TmpfsFile)) return -Errno.EINVAL;
  if (add === null) return inode.seals;
  if (!f.writable) return -Errno.EPERM;
  if ((add & ~(F_SEAL_SEAL | 2 | 4 | 8 | F_SEAL_FUTURE_WRITE)) !== 0) return -Errno.EINVAL;
  return inode.addSeals(add);
}

export const memorySyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [12, { name: 'brk', handler: brk, support: 'full' }],
  [
    9,
    {
      name: 'mmap',
      handler: mmap,
      support: 'partial',
      note: 'MAP_HUGETLB, MAP_LOCKED and MAP_POPULATE are accepted and ignored; shared mappings of files other than tmpfs are a page cache written back on msync, fsync and the last munmap',
    },
  ],
  [11, { name: 'munmap', handler: munmap, support: 'full' }],
  [10, { name: 'mprotect', handler: mprotect, support: 'partial', note: 'no PROT_GROWSDOWN' }],
  [25, { name: 'mremap', handler: mremap, support: 'full' }],
  [
    28,
    {
      name: 'madvise',
      handler: madvise,
      support: 'partial',
      note: 'DONTNEED/FREE give pages back, REMOVE punches tmpfs and shared memory (EOPNOTSUPP on Gofer files), POPULATE_* populate, DONTFORK/WIPEONFORK honoured; other advice is a hint',
    },
  ],
  [26, { name: 'msync', handler: msync, support: 'full' }],
  [27, { name: 'mincore', handler: mincore, support: 'full' }],
  [
    149,
    {
      name: 'mlock',
      handler: (t, a) => mlockRange(t, a, true, false),
      support: 'full',
    },
  ],
  [150, { name: 'munlock', handler: (t, a) => mlockRange(t, a, false, false), support: 'full' }],
  [
    325,
    {
      name: 'mlock2',
      handler: (t, a) => mlockRange(t, a, true, true),
      support: 'full',
    },
  ],
  [
    151,
    {
      name: 'mlockall',
      handler: mlockall,
      support: 'partial',
      note: 'accepted; nothing is populated or marked locked',
    },
  ],
  [152, { name: 'munlockall', handler: () => 0, support: 'full' }],
  [319, { name: 'memfd_create', handler: memfdCreate, support: 'partial', note: 'no MFD_HUGETLB' }],
]);
