// Interval timers and system information: alarm, setitimer, getitimer (ITIMER_REAL on the
// kernel's clock; ITIMER_VIRTUAL and ITIMER_PROF on the process's CPU time, kernel/itimer.ts),
// and sysinfo (the sandbox's uptime, memory size and process count, never the host's load).

import { Errno } from '../../abi/linux/errno.js';
import { getITimer, processCpuNs, setITimer, type ITimer } from '../kernel/itimer.js';
import type { Task } from '../kernel/task.js';
import { int, uint } from './args.js';
import type { SyscallEntry } from './types.js';

const ITIMER_REAL = 0;
const ITIMER_VIRTUAL = 1;
const ITIMER_PROF = 2;
const NS = 1_000_000_000n;

/** struct itimerval {it_interval, it_value} of timevals, from a timer on a clock now at `now`. */
function itimerval(t: Task, tm: ITimer, now = t.kernel.monotonicNs()): Uint8Array {
  const left = tm.deadline === 0n ? 0n : tm.deadline - now;
  const value = left > 0n ? left : tm.deadline === 0n ? 0n : 1000n;
  const out = new BigInt64Array([
    tm.interval / NS,
    (tm.interval % NS) / 1000n,
    value / NS,
    ((value % NS) + 999n) / 1000n,
  ]);
  // A remainder rounded up to a whole second of microseconds carries into the seconds.
  if ((out[3] ?? 0n) >= 1_000_000n) {
    out[2] = (out[2] ?? 0n) + 1n;
    out[3] = 0n;
  }
  return new Uint8Array(out.buffer);
}

/** The timer `which` of `t`'s process as an itimerval (disarmed: zeros). */
function currentItimerval(t: Task, which: number): Uint8Array {
  if (which === ITIMER_REAL) return itimerval(t, getITimer(t));
  const timers = t.kernel.cpuTimers.get(t.leader);
  const tm = which === ITIMER_VIRTUAL ? timers?.virt : timers?.prof;
  const [user, prof] = processCpuNs(t);
  return itimerval(t, tm ?? { deadline: 0n, interval: 0n }, which === ITIMER_VIRTUAL ? user : prof);
}

/** Implements Linux syscall getitimer(2). */
function getitimer(t: Task, a: readonly bigint[]): number {
  const which = int(a[0] ?? 0n);
  if (which !== ITIMER_REAL && which !== ITIMER_VIRTUAL && which !== ITIMER_PROF)
    return -Errno.EINVAL;
  const r = t.mem.copyOut(a[1] ?? 0n, currentItimerval(t, which));
  return r < 0 ? r : 0;
}

/** Implements Linux syscall setitimer(2): ITIMER_REAL, ITIMER_VIRTUAL and ITIMER_PROF. */
function setitimer(t: Task, a: readonly bigint[]): number {
  const which = int(a[0] ?? 0n);
  if (which !== ITIMER_REAL && which !== ITIMER_VIRTUAL && which !== ITIMER_PROF)
    return -Errno.EINVAL;
  // The timer's clock: the kernel's monotonic one, or the process's CPU time.
  const [user, prof] = processCpuNs(t);
  const clockNow =
    which === ITIMER_REAL ? t.kernel.monotonicNs() : which === ITIMER_VIRTUAL ? user : prof;
  let next: ITimer | undefined;
  const np = a[1] ?? 0n;
  if (np !== 0n) {
    const b = t.mem.copyIn(np, 32);
    if (typeof b === 'number') return b;
    const v = new BigInt64Array(b.buffer);
    const [isec, iusec, vsec, vusec] = [v[0] ?? 0n, v[1] ?? 0n, v[2] ?? 0n, v[3] ?? 0n];
    if (isec < 0n || vsec < 0n || iusec < 0n || vusec < 0n) return -Errno.EINVAL;
    if (iusec >= 1_000_000n || vusec >= 1_000_000n) return -Errno.EINVAL;
    const value = vsec * NS + vusec * 1000n;
    next = {
      deadline: value === 0n ? 0n : clockNow + value,
      interval: isec * NS + iusec * 1000n,
    };
  }
  const op = a[2] ?? 0n;
  if (op !== 0n) {
    const r = t.mem.copyOut(op, currentItimerval(t, which));
    if (r < 0) return r;
  }
  // A NULL new value disarms the timer, as Linux has done since 2.6.
  const tm = next ?? { deadline: 0n, interval: 0n };
  if (which === ITIMER_REAL) setITimer(t, tm);
  else {
    const m = t.kernel.cpuTimers;
    const cur = { ...(m.get(t.leader) ?? {}) };
    if (which === ITIMER_VIRTUAL) delete cur.virt;
    else delete cur.prof;
    if (tm.deadline !== 0n) {
      if (which === ITIMER_VIRTUAL) cur.virt = tm;
      else cur.prof = tm;
    }
    if (cur.virt === undefined && cur.prof === undefined) m.delete(t.leader);
    else m.set(t.leader, cur);
  }
  return 0;
}

/** Implements Linux syscall alarm(2): the seconds that were left, rounded to nearest. */
function alarm(t: Task, a: readonly bigint[]): number {
  const secs = BigInt(uint(a[0] ?? 0n));
  const old = getITimer(t);
  let left = 0n;
  if (old.deadline !== 0n) {
    const ns = old.deadline - t.kernel.monotonicNs();
    left = ns <= 0n ? 1n : (ns + NS / 2n) / NS;
    if (left === 0n) left = 1n;
  }
  setITimer(t, { deadline: secs === 0n ? 0n : t.kernel.monotonicNs() + secs * NS, interval: 0n });
  return Number(left);
}

/** Implements Linux syscall sysinfo(2): the sandbox's view (no load, no swap). */
function sysinfo(t: Task, a: readonly bigint[]): number {
  const k = t.kernel;
  const b = new Uint8Array(112);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, k.monotonicNs() / NS, true); // uptime
  const total = BigInt(k.memTotalBytes);
  dv.setBigUint64(32, total, true); // totalram
  const used = BigInt(k.memoryFile.usedBytes);
  dv.setBigUint64(40, total > used ? total - used : 0n, true); // freeram
  dv.setUint16(80, Math.min(k.livePids().length, 0xffff), true); // procs
  dv.setUint32(104, 1, true); // mem_unit
  const r = t.mem.copyOut(a[0] ?? 0n, b);
  return r < 0 ? r : 0;
}

export const timerSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [37, { name: 'alarm', handler: alarm, support: 'full' }],
  [
    38,
    {
      name: 'setitimer',
      handler: setitimer,
      support: 'full',
    },
  ],
  [
    36,
    {
      name: 'getitimer',
      handler: getitimer,
      support: 'full',
    },
  ],
  [
    99,
    {
      name: 'sysinfo',
      handler: sysinfo,
      support: 'partial',
      note: 'the sandbox view: uptime, memory size, processes; no load, free memory is the total',
    },
  ],
]);
