// Process identity and lifetime: exit, exit_group, getpid and friends, set_tid_address,
// set_robust_list, arch_prctl, prctl, uname, rlimits, scheduling queries. PIDs are virtual;
// fork, exec, wait and process groups are sys_process_tree.ts.
// Nothing here reaches the host.

import { prctlGetSeccomp, prctlSetSeccomp } from './sys_seccomp.js';
import {
  CAP_LAST_CAP,
  CAP_SETPCAP,
  CAP_SYS_NICE,
  CAP_SYS_RESOURCE,
} from '../../abi/linux/capability.js';
import { capable } from '../kernel/credentials.js';
import { Errno } from '../../abi/linux/errno.js';
import { Reg } from '../../platform/platform.js';
import { MOAT_RELEASE, MOAT_VERSION } from '../kernel/kernel.js';
import type { Task } from '../kernel/task.js';
import { int, uint } from './args.js';
import type { SyscallEntry } from './types.js';

const ARCH_SET_GS = 0x1001;
const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;
const ARCH_GET_GS = 0x1004;
const ARCH_GET_CPUID = 0x1011;
const ARCH_SET_CPUID = 0x1012;

const PR_SET_PDEATHSIG = 1;
const PR_GET_PDEATHSIG = 2;
const PR_GET_DUMPABLE = 3;
const PR_SET_DUMPABLE = 4;
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_GET_NO_NEW_PRIVS = 39;
const PR_SET_NO_NEW_PRIVS = 38;

const RLIM_INFINITY = 0xffffffffffffffffn;
const RLIMIT_NLIMITS = 16;
const RLIMIT_NOFILE = 7;
/** /proc/sys/fs/nr_open's default: no process may hold more descriptors. */
const NR_OPEN = 1048576n;
const USER_TOP = 0x800000000000n;

function u64le(values: bigint[]): Uint8Array {
  return new Uint8Array(new BigUint64Array(values).buffer);
}

function exitGroup(t: Task, code: number): number {
  t.exit = { kind: 'exited', code: code & 0xff };
  return 0;
}

/** Implements Linux syscall uname(2): the Sentry's own release, the container's hostname. */
function uname(t: Task, a: readonly bigint[]): number {
  const fields = [
    'Linux',
    t.kernel.hostname,
    MOAT_RELEASE,
    MOAT_VERSION,
    'x86_64',
    t.kernel.domainname,
  ];
  const buf = new Uint8Array(65 * 6);
  fields.forEach((f, i) => {
    const b = Buffer.from(f, 'utf8').subarray(0, 64);
    buf.set(b, i * 65);
  });
  const r = t.mem.copyOut(a[0] ?? 0n, buf);
  return r < 0 ? r : 0;
}

/** Implements Linux syscall arch_prctl(2). CPUID faulting is not offered. */
function archPrctl(t: Task, a: readonly bigint[]): number {
  const code = int(a[0] ?? 0n);
  const addr = a[1] ?? 0n;
  switch (code) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
      if (addr >= USER_TOP) return -Errno.EPERM;
      t.regs[code === ARCH_SET_FS ? Reg.fs_base : Reg.gs_base] = addr;
      return 0;
    case ARCH_GET_FS:
    case ARCH_GET_GS: {
      const v = t.regs[code === ARCH_GET_FS ? Reg.fs_base : Reg.gs_base] ?? 0n;
      const r = t.mem.copyOut(addr, u64le([v]));
      return r < 0 ? r : 0;
    }
    case ARCH_GET_CPUID:
      return 1;
    case ARCH_SET_CPUID:
      return -Errno.ENODEV;
    default:
      return -Errno.EINVAL;
  }
}

/** Implements Linux syscall prctl(2): names, dumpable, no_new_privs, pdeathsig (stored). */
function prctl(t: Task, a: readonly bigint[]): number {
  const op = int(a[0] ?? 0n);
  switch (op) {
    case PR_SET_NAME: {
      const s = t.mem.copyInString(a[1] ?? 0n, 4096);
      if (typeof s === 'number') return s === -Errno.ENAMETOOLONG ? -Errno.EFAULT : s;
      t.comm = s.slice(0, 15);
      return 0;
    }
    case PR_GET_NAME: {
      const b = new Uint8Array(16);
      b.set(Buffer.from(t.comm, 'utf8').subarray(0, 15));
      const r = t.mem.copyOut(a[1] ?? 0n, b);
      return r < 0 ? r : 0;
    }
    case PR_GET_DUMPABLE:
      return 1;
    case PR_SET_DUMPABLE:
      return int(a[1] ?? 0n) === 0 || int(a[1] ?? 0n) === 1 ? 0 : -Errno.EINVAL;
    case PR_SET_NO_NEW_PRIVS:
      if ((a[1] ?? 0n) !== 1n || (a[2] ?? 0n) !== 0n) return -Errno.EINVAL;
      t.noNewPrivs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      return t.noNewPrivs ? 1 : 0;
    case PR_SET_PDEATHSIG:
      return int(a[1] ?? 0n) >= 0 && int(a[1] ?? 0n) <= 64 ? 0 : -Errno.EINVAL;
    case PR_GET_SECCOMP:
      return prctlGetSeccomp(t);
    case PR_SET_SECCOMP:
      return prctlSetSeccomp(t, a);
    case PR_GET_PDEATHSIG: {
      const r = t.mem.copyOut(a[1] ?? 0n, new Uint8Array(4));
      return r < 0 ? r : 0;
    }
    default:
      return prctlCaps(t, op, a);
  }
}

const PR_GET_KEEPCAPS = 7;
const PR_GET_SECCOMP = 21;
const PR_SET_SECCOMP = 22;
const PR_SET_KEEPCAPS = 8;
const PR_CAPBSET_READ = 23;
const PR_CAPBSET_DROP = 24;
const PR_GET_SECUREBITS = 27;
const PR_CAP_AMBIENT = 47;

/** prctl's capability operations (capabilities(7)). */
function prctlCaps(t: Task, op: number, a: readonly bigint[]): number {
  const c = t.creds;
  const arg = a[1] ?? 0n;
  const validCap = arg >= 0n && arg <= BigInt(CAP_LAST_CAP);
  const bit = validCap ? 1n << arg : 0n;
  switch (op) {
    case PR_GET_KEEPCAPS:
      return c.keepCaps ? 1 : 0;
    case PR_SET_KEEPCAPS:
      if (arg !== 0n && arg !== 1n) return -Errno.EINVAL;
      c.keepCaps = arg === 1n;
      return 0;
    case PR_CAPBSET_READ:
      if (!validCap) return -Errno.EINVAL;
      return (c.capBnd & bit) !== 0n ? 1 : 0;
    case PR_CAPBSET_DROP:
      if (!validCap) return -Errno.EINVAL;
      if (!capable(c, CAP_SETPCAP)) return -Errno.EPERM;
      c.capBnd &= ~bit;
      return 0;
    case PR_GET_SECUREBITS:
      return c.keepCaps ? 0x10 : 0;
    case PR_CAP_AMBIENT: {
      const sub = int(a[1] ?? 0n);
      const capArg = a[2] ?? 0n;
      if (sub === 4) {
        if ((a[2] ?? 0n) !== 0n) return -Errno.EINVAL;
        c.capAmb = 0n;
        return 0;
      }
      if (capArg < 0n || capArg > BigInt(CAP_LAST_CAP)) return -Errno.EINVAL;
      const b = 1n << capArg;
      if (sub === 1) return (c.capAmb & b) !== 0n ? 1 : 0;
      if (sub === 2) {
        if ((c.capPrm & b) === 0n || (c.capInh & b) === 0n) return -Errno.EPERM;
        c.capAmb |= b;
        return 0;
      }
      if (sub === 3) {
        c.capAmb &= ~b;
        return 0;
      }
      return -Errno.EINVAL;
    }
    default:
      return -Errno.EINVAL;
  }
}

/**
 * Implements Linux syscall personality(2): 0xffffffff queries; any other value is stored and
 * the old one returned. Deliberate difference: no execution domain changes how moat runs
 * the program (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE and the like are recorded only).
 */
function personality(t: Task, a: readonly bigint[]): number {
  const v = Number((a[0] ?? 0n) & 0xffffffffn);
  const old = t.personality;
  if (v !== 0xffffffff) t.personality = v;
  return old;
}

function defaultRlimit(t: Task, res: number): { cur: bigint; max: bigint } {
  return t.rlimits.get(res) ?? { cur: RLIM_INFINITY, max: RLIM_INFINITY };
}

/** Implements Linux syscall prlimit64(2) for the calling process (pid 0 or its own pid). */
function prlimit64(t: Task, a: readonly bigint[]): number {
  const pid = int(a[0] ?? 0n);
  const res = uint(a[1] ?? 0n);
  if (pid !== 0 && pid !== t.tgid) return -Errno.ESRCH;
  if (res >= RLIMIT_NLIMITS) return -Errno.EINVAL;
  const old = defaultRlimit(t, res);
  const newPtr = a[2] ?? 0n;
  const oldPtr = a[3] ?? 0n;
  let next: { cur: bigint; max: bigint } | undefined;
  if (newPtr !== 0n) {
    const b = t.mem.copyIn(newPtr, 16);
    if (typeof b === 'number') return b;
    const v = new BigUint64Array(b.buffer);
    next = { cur: v[0] ?? 0n, max: v[1] ?? 0n };
    if (next.cur > next.max) return -Errno.EINVAL;
    if (next.max > old.max && !capable(t.creds, CAP_SYS_RESOURCE)) return -Errno.EPERM;
    if (res === RLIMIT_NOFILE && next.max > NR_OPEN) return -Errno.EPERM;
  }
  if (oldPtr !== 0n) {
    const r = t.mem.copyOut(oldPtr, u64le([old.cur, old.max]));
    if (r < 0) return r;
  }
  if (next) {
    t.rlimits.set(res, next);
    if (res === 7) t.files.limit = Number(next.cur > 1048576n ? 1048576n : next.cur);
  }
  return 0;
}

/** Implements Linux syscall getrlimit(2). */
function getrlimit(t: Task, a: readonly bigint[]): number {
  return prlimit64(t, [0n, a[0] ?? 0n, 0n, a[1] ?? 0n]);
}

/** Implements Linux syscall setrlimit(2). */
function setrlimit(t: Task, a: readonly bigint[]): number {
  return prlimit64(t, [0n, a[0] ?? 0n, a[1] ?? 0n, 0n]);
}

/** The sandbox's CPUs (the run loop's lanes) as a mask. */
function allCpus(t: Task): bigint {
  return (1n << BigInt(t.kernel.lanes)) - 1n;
}

/** The task `pid` names for the affinity calls (0: the caller), or -ESRCH. */
function affinityTarget(t: Task, pid: number): Task | number {
  if (pid === 0) return t;
  const u = t.kernel.tasks.get(pid);
  return u === undefined || u.exit.kind !== 'running' ? -Errno.ESRCH : u;
}

/** The size of the kernel's CPU mask, in bytes: what sched_getaffinity returns. */
const CPUMASK_BYTES = 8;

/**
 * Implements Linux syscall sched_getaffinity(2): the sandbox's CPUs are the run loop's lanes
 * (one per host CPU it may use), numbered from 0.
 */
function schedGetaffinity(t: Task, a: readonly bigint[]): number {
  const u = affinityTarget(t, int(a[0] ?? 0n));
  if (typeof u === 'number') return u;
  const len = uint(a[1] ?? 0n);
  if (len < CPUMASK_BYTES || len % 8 !== 0) return -Errno.EINVAL;
  const mask = new Uint8Array(CPUMASK_BYTES);
  new DataView(mask.buffer).setBigUint64(0, u.cpuMask & allCpus(t), true);
  const r = t.mem.copyOut(a[2] ?? 0n, mask);
  return r < 0 ? r : CPUMASK_BYTES;
}

/**
 * Implements Linux syscall sched_setaffinity(2): the task runs only on lanes of its mask (the
 * bits past the sandbox's CPUs are ignored; none left is EINVAL). Another user's task needs
 * CAP_SYS_NICE.
 */
function schedSetaffinity(t: Task, a: readonly bigint[]): number {
  const u = affinityTarget(t, int(a[0] ?? 0n));
  if (typeof u === 'number') return u;
  const len = Math.min(uint(a[1] ?? 0n), 128);
  const b = t.mem.copyIn(a[2] ?? 0n, len);
  if (typeof b === 'number') return b;
  const padded = new Uint8Array(8);
  padded.set(b.subarray(0, 8));
  const mask = new DataView(padded.buffer).getBigUint64(0, true) & allCpus(t);
  if (mask === 0n) return -Errno.EINVAL;
  const c = t.creds;
  if (u !== t && c.euid !== u.creds.uid && c.euid !== u.creds.euid && !capable(c, CAP_SYS_NICE))
    return -Errno.EPERM;
  u.cpuMask = mask;
  return 0;
}

/** Implements Linux syscall getcpu(2): the sandbox CPU (lane) the task last ran on, node 0. */
function getcpu(t: Task, a: readonly bigint[]): number {
  const vals = [t.lastCpu, 0];
  for (let i = 0; i < 2; i++) {
    const p = a[i] ?? 0n;
    if (p === 0n) continue;
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, vals[i] ?? 0, true);
    const r = t.mem.copyOut(p, b);
    if (r < 0) return r;
  }
  return 0;
}

/** Implements Linux syscall set_tid_address(2). */
function setTidAddress(t: Task, a: readonly bigint[]): number {
  t.clearChildTid = a[0] ?? 0n;
  return t.tid;
}

/** Implements Linux syscall set_robust_list(2). The list is recorded, and walked at exit later. */
function setRobustList(t: Task, a: readonly bigint[]): number {
  if ((a[1] ?? 0n) !== 24n) return -Errno.EINVAL;
  t.robustList = a[0] ?? 0n;
  return 0;
}

/** Implements Linux syscall umask(2). */
function umask(t: Task, a: readonly bigint[]): number {
  const old = t.fs.umask;
  t.fs.umask = uint(a[0] ?? 0n) & 0o777;
  return old;
}

export const processSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [
    60,
    {
      name: 'exit',
      handler: (t, a) => {
        t.threadExitOnly = true;
        return exitGroup(t, int(a[0]));
      },
      support: 'full',
    },
  ],
  [231, { name: 'exit_group', handler: (t, a) => exitGroup(t, int(a[0])), support: 'full' }],
  [39, { name: 'getpid', handler: (t) => t.tgid, support: 'full' }],
  [186, { name: 'gettid', handler: (t) => t.tid, support: 'full' }],
  [63, { name: 'uname', handler: uname, support: 'full' }],
  [158, { name: 'arch_prctl', handler: archPrctl, support: 'partial', note: 'no CPUID faulting' }],
  [
    157,
    {
      name: 'prctl',
      handler: prctl,
      support: 'partial',
      note: 'names, dumpable, no_new_privs, pdeathsig',
    },
  ],
  [
    302,
    {
      name: 'prlimit64',
      handler: prlimit64,
      support: 'partial',
      note: 'own process only; limits are recorded, RLIMIT_NOFILE is enforced',
    },
  ],
  [97, { name: 'getrlimit', handler: getrlimit, support: 'partial' }],
  [160, { name: 'setrlimit', handler: setrlimit, support: 'partial' }],
  [
    135,
    {
      name: 'personality',
      handler: personality,
      support: 'partial',
      note: 'recorded, not applied',
    },
  ],
  [204, { name: 'sched_getaffinity', handler: schedGetaffinity, support: 'full' }],
  [24, { name: 'sched_yield', handler: () => 0, support: 'full' }],
  [309, { name: 'getcpu', handler: getcpu, support: 'full' }],
  [203, { name: 'sched_setaffinity', handler: schedSetaffinity, support: 'full' }],
  [218, { name: 'set_tid_address', handler: setTidAddress, support: 'full' }],
  [273, { name: 'set_robust_list', handler: setRobustList, support: 'partial' }],
  [95, { name: 'umask', handler: umask, support: 'full' }],
]);
