// Scheduling priorities: getpriority and setpriority over the nice values the Sentry keeps per
// task (PRIO_PROCESS names one thread, PRIO_PGRP a process group, PRIO_USER a user), with
// Linux's permission rules: another user's tasks need CAP_SYS_NICE (EPERM), and lowering a
// nice value needs CAP_SYS_NICE or room under RLIMIT_NICE (EACCES). The Sentry's scheduler
// does not weigh nice values yet: a task's share of the CPU is what the round-robin gives it.

import { Errno } from '../../abi/linux/errno.js';
import { capable } from '../kernel/credentials.js';
import type { Task } from '../kernel/task.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

const PRIO_PROCESS = 0;
const PRIO_PGRP = 1;
const PRIO_USER = 2;
const CAP_SYS_NICE = 23;
const RLIMIT_NICE = 13;

/** The live tasks `which`/`who` names, or -EINVAL for a bad `which`. */
function targets(t: Task, which: number, who: number): Task[] | number {
  const live = [...t.kernel.tasks.values()].filter((u) => u.exit.kind === 'running');
  switch (which) {
    case PRIO_PROCESS: {
      if (who === 0) return [t];
      const u = t.kernel.tasks.get(who);
      return u !== undefined && u.exit.kind === 'running' ? [u] : [];
    }
    case PRIO_PGRP: {
      const pgid = who === 0 ? t.leader.pgid : who;
      return live.filter((u) => u.leader.pgid === pgid);
    }
    case PRIO_USER: {
      const uid = who === 0 ? t.creds.uid : who;
      return live.filter((u) => u.creds.uid === uid);
    }
    default:
      return -Errno.EINVAL;
  }
}

/** Implements Linux syscall getpriority(2): 20 - nice of the best-placed task (the raw ABI). */
function getpriority(t: Task, a: readonly bigint[]): number {
  const list = targets(t, int(a[0] ?? 0n), int(a[1] ?? 0n));
  if (typeof list === 'number') return list;
  if (list.length === 0) return -Errno.ESRCH;
  let best = 0;
  for (const u of list) best = Math.max(best, 20 - u.nice);
  return best;
}

/** Implements Linux syscall setpriority(2), with set_one_prio's checks per task. */
function setpriority(t: Task, a: readonly bigint[]): number {
  const list = targets(t, int(a[0] ?? 0n), int(a[1] ?? 0n));
  if (typeof list === 'number') return list;
  const nice = Math.min(19, Math.max(-20, int(a[2] ?? 0n)));
  let err = -Errno.ESRCH;
  for (const u of list) {
    const c = t.creds;
    if (u.creds.uid !== c.euid && u.creds.euid !== c.euid && !capable(c, CAP_SYS_NICE)) {
      err = -Errno.EPERM;
      continue;
    }
    if (nice < u.nice) {
      const lim = u.rlimits.get(RLIMIT_NICE)?.cur ?? 0n;
      if (BigInt(20 - nice) > lim && !capable(c, CAP_SYS_NICE)) {
        err = -Errno.EACCES;
        continue;
      }
    }
    if (err === -Errno.ESRCH) err = 0;
    u.nice = nice;
  }
  return err;
}

export const prioritySyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [
    140,
    {
      name: 'getpriority',
      handler: getpriority,
      support: 'full',
    },
  ],
  [
    141,
    {
      name: 'setpriority',
      handler: setpriority,
      support: 'partial',
      note: 'kept and reported; the scheduler does not weigh nice values yet',
    },
  ],
]);
