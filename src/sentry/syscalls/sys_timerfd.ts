// Timers as files: timerfd_create, timerfd_settime, timerfd_gettime. The timer is
// fsimpl/anon/timerfd.ts on the Sentry's own clocks; its expiries are kernel alarms
// (kernel/itimer.ts), so a blocked read, poll or epoll_wait wakes when it fires. Nothing here
// reaches the host.

import { Errno } from '../../abi/linux/errno.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../../abi/linux/file.js';
import { addAlarm } from '../kernel/itimer.js';
import type { Task } from '../kernel/task.js';
import { anonFile } from '../fsimpl/anon/anon.js';
import { TimerFd, timerOf, timerfdImpl, type TimerClock } from '../fsimpl/anon/timerfd.js';
import { int } from './args.js';
import {
  isRealtimeClock,
  itimerspecBytes,
  readItimerspec,
  timerClockAllowed,
} from './itimerspec.js';
import type { SyscallEntry } from './types.js';

const TFD_TIMER_ABSTIME = 1;
const TFD_TIMER_CANCEL_ON_SET = 2;

function clockFor(t: Task, clock: number): TimerClock {
  const k = t.kernel;
  const real = isRealtimeClock(clock);
  return {
    now: () => (real ? k.realtimeNs() : k.monotonicNs()),
    toMonotonic: (at) => (real ? at - k.bootRealtimeNs : at),
    alarm: (at, fire) => addAlarm(k, at, fire),
  };
}

/** Implements Linux syscall timerfd_create(2). The *_ALARM clocks need CAP_WAKE_ALARM. */
function timerfdCreate(t: Task, a: readonly bigint[]): number {
  const clock = int(a[0] ?? 0n);
  const flags = int(a[1] ?? 0n);
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK)) !== 0) return -Errno.EINVAL;
  const ok = timerClockAllowed(t, clock);
  if (ok < 0) return ok;
  const f = anonFile(timerfdImpl(new TimerFd(clockFor(t, clock))), O_RDWR | (flags & O_NONBLOCK));
  const fd = t.files.install(f, (flags & O_CLOEXEC) !== 0);
  if (fd < 0) f.decRef();
  return fd;
}

/** The timer behind fd, or -EBADF / -EINVAL (not a timerfd). */
function timerAt(t: Task, fdArg: bigint): TimerFd | number {
  const f = t.files.get(int(fdArg));
  if (f === undefined) return -Errno.EBADF;
  return timerOf(f.impl) ?? -Errno.EINVAL;
}

/** Implements Linux syscall timerfd_settime(2), with Linux's order of checks. */
function timerfdSettime(t: Task, a: readonly bigint[]): number {
  const flags = int(a[1] ?? 0n);
  const spec = readItimerspec(t, a[2] ?? 0n);
  if (typeof spec === 'number') return spec;
  if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) !== 0) return -Errno.EINVAL;
  if (!spec.valid) return -Errno.EINVAL;
  const tm = timerAt(t, a[0] ?? 0n);
  if (typeof tm === 'number') return tm;
  const old = tm.get();
  if ((a[3] ?? 0n) !== 0n) {
    const r = t.mem.copyOut(a[3] ?? 0n, itimerspecBytes(old[1], old[0]));
    if (r < 0) return r;
  }
  tm.set(spec.value, spec.interval, (flags & TFD_TIMER_ABSTIME) !== 0);
  return 0;
}

/** Implements Linux syscall timerfd_gettime(2). */
function timerfdGettime(t: Task, a: readonly bigint[]): number {
  const tm = timerAt(t, a[0] ?? 0n);
  if (typeof tm === 'number') return tm;
  const [left, interval] = tm.get();
  const r = t.mem.copyOut(a[1] ?? 0n, itimerspecBytes(interval, left));
  return r < 0 ? r : 0;
}

export const timerfdSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [
    283,
    {
      name: 'timerfd_create',
      handler: timerfdCreate,
      support: 'full',
      note: 'realtime, monotonic and boottime clocks',
    },
  ],
  [
    286,
    {
      name: 'timerfd_settime',
      handler: timerfdSettime,
      support: 'full',
      note: 'TFD_TIMER_CANCEL_ON_SET never fires: the clocks are never set',
    },
  ],
  [287, { name: 'timerfd_gettime', handler: timerfdGettime, support: 'full' }],
]);
