// The x86-64 system call table: every implemented number, by family. A number missing here
// answers ENOSYS and is reported once by name. docs/syscalls.md is generated from this table.

import type { Task } from '../kernel/task.js';
import { epollSyscalls } from './sys_epoll.js';
import { fileSyscalls } from './sys_file.js';
import { identitySyscalls } from './sys_identity.js';
import { memorySyscalls } from './sys_memory.js';
import { shmSyscalls } from './sys_shm.js';
import { rusageSyscalls } from './sys_rusage.js';
import { miscSyscalls } from './sys_misc.js';
import { pollSyscalls } from './sys_poll.js';
import { processSyscalls } from './sys_process.js';
import { processTreeSyscalls } from './sys_process_tree.js';
import { signalSyscalls } from './sys_signal.js';
import { timeSyscalls } from './sys_time.js';
import { timerSyscalls } from './sys_timer.js';
import { timerfdSyscalls } from './sys_timerfd.js';
import { prioritySyscalls } from './sys_priority.js';
import { signalfdSyscalls } from './sys_signalfd.js';
import { posixTimerSyscalls } from './sys_posix_timer.js';
import { seccompSyscalls } from './sys_seccomp.js';
import { socketSyscalls } from './sys_socket.js';
import { socketConnSyscalls } from './sys_socket_conn.js';
import { sockoptSyscalls } from './sys_sockopt.js';
import { withInet } from './sys_socket_inet.js';
import type { SyscallEntry } from './types.js';

export function buildSyscallTable(): ReadonlyMap<number, SyscallEntry<Task>> {
  const table = new Map<number, SyscallEntry<Task>>();
  const families: Array<ReadonlyMap<number, SyscallEntry<Task>>> = [
    epollSyscalls,
    fileSyscalls,
    identitySyscalls,
    memorySyscalls,
    shmSyscalls,
    rusageSyscalls,
    miscSyscalls,
    pollSyscalls,
    processSyscalls,
    processTreeSyscalls,
    signalSyscalls,
    timeSyscalls,
    timerSyscalls,
    timerfdSyscalls,
    prioritySyscalls,
    signalfdSyscalls,
    posixTimerSyscalls,
    seccompSyscalls,
    withInet(socketSyscalls),
    withInet(socketConnSyscalls),
    sockoptSyscalls,
  ];
  for (const f of families) {
    for (const [nr, e] of f) {
      if (table.has(nr)) throw new Error(`syscall table: ${nr} (${e.name}) defined twice`);
      table.set(nr, e);
    }
  }
  return table;
}
