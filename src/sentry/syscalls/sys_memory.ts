// Memory system calls: brk, mmap, munmap, mprotect, madvise, msync. File mappings are private
// copies of the file's bytes (MAP_PRIVATE, and read-only MAP_SHARED); a writable shared file
// mapping answers ENODEV until the Gofer's fd donation backs them (issue #3).

import { Errno } from '../../abi/linux/errno.js';
import type { Task } from '../kernel/task.js';
import { PAGE } from '../mm/memory_file.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  pageUp,
} from '../mm/memory_manager.js';
import { int, long } from './args.js';
import type { SyscallEntry } from './types.js';

const MAP_SHARED_VALIDATE = 0x03;
const MAP_TYPE = 0x0f;
const PAGE_N = BigInt(PAGE);
const KNOWN_PROT = PROT_READ | PROT_WRITE | PROT_EXEC;

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

const RLIMIT_DATA = 2;
const RLIMIT_AS = 9;

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
    if ((v.prot & PROT_WRITE) !== 0 && v.name !== '[shared]' && v.name !== '[stack]') {
      dataVm += v.end - v.start;
    }
  }
  if (asSet && total + len > as) return false;
  if (dlSet && dataVm + data > dl) return false;
  return true;
}

const RLIM_INFINITY = 0xffffffffffffffffn;

/** Implements Linux syscall mmap(2). Differences: file mappings are copies (see module). */
function mmap(t: Task, a: readonly bigint[]): bigint | number {
  const addr = a[0] ?? 0n;
  const length = a[1] ?? 0n;
  const prot = int(a[2] ?? 0n);
  const flags = int(a[3] ?? 0n);
  const fd = int(a[4] ?? 0n);
  const offset = long(a[5] ?? 0n);
  if ((prot & ~KNOWN_PROT) !== 0 && (prot & ~(KNOWN_PROT | 0x01000000 | 0x02000000)) !== 0)
    return -Errno.EINVAL;
  const type = flags & MAP_TYPE;
  if (type !== MAP_PRIVATE && type !== MAP_SHARED && type !== MAP_SHARED_VALIDATE)
    return -Errno.EINVAL;
  if (length === 0n || offset % PAGE_N !== 0n || offset < 0n) return -Errno.EINVAL;
  const placement = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
  const privateWrite = type === MAP_PRIVATE && (prot & PROT_WRITE) !== 0;
  if (!withinLimits(t, pageUp(length), privateWrite ? pageUp(length) : 0n)) return -Errno.ENOMEM;
  if ((flags & MAP_ANONYMOUS) !== 0) {
    return t.mm.mmap(
      addr,
      length,
      prot,
      placement | MAP_PRIVATE,
      type === MAP_PRIVATE ? '[anon]' : '[shared]',
    );
  }
  const file = t.files.get(fd);
  if (file === undefined) return -Errno.EBADF;
  if (!file.readable) return -Errno.EACCES;
  if (type !== MAP_PRIVATE && (prot & PROT_WRITE) !== 0)
    return file.writable ? -Errno.ENODEV : -Errno.EACCES;
  const fileOff = Number(offset);
  const fill = (start: bigint): number => {
    const len = Number(((length + PAGE_N - 1n) / PAGE_N) * PAGE_N);
    const buf = new Uint8Array(Math.min(len, 1 << 20));
    let done = 0;
    while (done < len) {
      const want = buf.subarray(0, Math.min(buf.length, len - done));
      const n = file.pread(want, fileOff + done);
      if (n < 0) return n === -Errno.EISDIR ? -Errno.ENODEV : n;
      if (n === 0) break;
      const w = t.mm.copyOutForce(start + BigInt(done), want.subarray(0, n));
      if (w < 0) return w;
      done += n;
    }
    return 0;
  };
  return t.mm.mmap(addr, length, prot, placement | MAP_PRIVATE, 'file', fill);
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

const MADV_DONTNEED = 4;

/**
 * Implements Linux syscall madvise(2). MADV_DONTNEED zeroes private anonymous memory as Linux
 * does; other advice is accepted and ignored (it is only advice).
 */
function madvise(t: Task, a: readonly bigint[]): number {
  const addr = a[0] ?? 0n;
  if (addr % PAGE_N !== 0n) return -Errno.EINVAL;
  if (int(a[2] ?? 0n) === MADV_DONTNEED) return t.mm.discardRange(addr, a[1] ?? 0n);
  return 0;
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
      note: 'file mappings are private copies; writable shared file mappings: ENODEV',
    },
  ],
  [11, { name: 'munmap', handler: munmap, support: 'full' }],
  [10, { name: 'mprotect', handler: mprotect, support: 'partial', note: 'no PROT_GROWSDOWN' }],
  [
    28,
    {
      name: 'madvise',
      handler: madvise,
      support: 'partial',
      note: 'MADV_DONTNEED zeroes anonymous memory; other advice is ignored',
    },
  ],
]);
