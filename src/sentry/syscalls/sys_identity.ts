// Credentials: getuid and friends, getgroups. The identities are the container's (from
// config.json's process.user), kept by the Sentry; the host's are never shown. Changing them
// (setuid family) comes with the permission model later and answers ENOSYS until then.

import { Errno } from '../../abi/linux/errno.js';
import type { Task } from '../kernel/task.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

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
]);
