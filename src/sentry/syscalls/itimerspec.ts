// What the timer calls share (timerfd_*, timer_*): struct itimerspec in and out, and which
// clocks a timer may run on. Never throws.

import { Errno } from '../../abi/linux/errno.js';
import { capable } from '../kernel/credentials.js';
import type { Task } from '../kernel/task.js';

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_BOOTTIME = 7;
export const CLOCK_REALTIME_ALARM = 8;
export const CLOCK_BOOTTIME_ALARM = 9;
const CAP_WAKE_ALARM = 35;
const NS = 1_000_000_000n;

/** 0 when a timer may run on `clock`; EPERM for the *_ALARM clocks without CAP_WAKE_ALARM. */
export function timerClockAllowed(t: Task, clock: number): number {
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
      return 0;
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
      return capable(t.creds, CAP_WAKE_ALARM) ? 0 : -Errno.EPERM;
    default:
      return -Errno.EINVAL;
  }
}

export function isRealtimeClock(clock: number): boolean {
  return clock === CLOCK_REALTIME || clock === CLOCK_REALTIME_ALARM;
}

/** struct itimerspec {it_interval, it_value} from nanoseconds. */
export function itimerspecBytes(interval: bigint, value: bigint): Uint8Array {
  return new Uint8Array(
    new BigInt64Array([interval / NS, interval % NS, value / NS, value % NS]).buffer,
  );
}

/** A struct itimerspec read from the application: EFAULT, else its fields, checked later. */
export interface ItimerspecIn {
  value: bigint;
  interval: bigint;
  /** Both timespecs are in range (timespec64_valid). */
  valid: boolean;
}

export function readItimerspec(t: Task, p: bigint): ItimerspecIn | number {
  const b = t.mem.copyIn(p, 32);
  if (typeof b === 'number') return b;
  const v = new BigInt64Array(b.buffer);
  const [is, ins, vs, vns] = [v[0] ?? 0n, v[1] ?? 0n, v[2] ?? 0n, v[3] ?? 0n];
  const valid = is >= 0n && vs >= 0n && ins >= 0n && vns >= 0n && ins < NS && vns < NS;
  return { value: vs * NS + vns, interval: is * NS + ins, valid };
}
