// The run loop of one task: switch to the application through the platform, and on each trap
// either emulate the system call (through the syscall table) or apply the signal. Synchronous:
// no Promise, no await, no host call other than the platform's switch on the hot path.
//
// It must never let a kernel-internal errno (ERESTARTSYS…) reach the application, and never
// resume the application after its exit was decided.

import { Errno } from '../../abi/linux/errno.js';
import { Reg } from '../../platform/platform.js';
import type { SyscallArgs, SyscallEntry } from '../syscalls/types.js';
import { deliverPending, forceFault } from './signals.js';
import type { ExitState, Task } from './task.js';

export type SyscallTable = ReadonlyMap<number, SyscallEntry<Task>>;

const SIGKILL = 9;
const SYS_rt_sigreturn = 15;
/** Host signal used by the control plane to interrupt a running stub ("kick"). */
export const KICK_SIGNAL = 10; // SIGUSR1
const SI_USER = 0;
const SI_TKILL = -6;

export interface RunHooks {
  /** Called when the stub was kicked: apply pending control requests (signals) to the task. */
  onKick(t: Task): void;
  /** When set (--debug), time spent emulating each system call, by number: [calls, ns]. */
  profile?: Map<number, [number, bigint]>;
}

const KERNEL_INTERNAL_MIN = 512;
const KERNEL_INTERNAL_MAX = 529;

export function dispatch(t: Task, table: SyscallTable, nr: number, args: SyscallArgs): bigint {
  const entry = table.get(nr);
  if (entry === undefined) {
    t.kernel.reportUnimplemented(nr);
    return BigInt(-Errno.ENOSYS);
  }
  let r = BigInt(entry.handler(t, args));
  if (r < 0n && -r >= BigInt(KERNEL_INTERNAL_MIN) && -r <= BigInt(KERNEL_INTERNAL_MAX))
    r = BigInt(-Errno.EINTR);
  return r;
}

/** Runs `t` until it exits; returns how it ended. */
export function runTask(t: Task, table: SyscallTable, hooks: RunHooks): ExitState {
  const as = t.mm.as;
  const regs = t.regs;
  while (t.exit.kind === 'running') {
    if ((t.pendingSignals & ~t.sigmask) !== 0n) {
      deliverPending(t);
      if (t.exit.kind !== 'running') break;
    }
    const trap = as.switchTo(regs);
    switch (trap.kind) {
      case 'syscall': {
        const o = regs[Reg.orig_rax] ?? 0n;
        const nr = o > 0xffffffffn ? -1 : Number(o);
        const args: SyscallArgs = [
          regs[Reg.rdi] ?? 0n,
          regs[Reg.rsi] ?? 0n,
          regs[Reg.rdx] ?? 0n,
          regs[Reg.r10] ?? 0n,
          regs[Reg.r8] ?? 0n,
          regs[Reg.r9] ?? 0n,
        ];
        let r: bigint;
        if (hooks.profile === undefined) r = dispatch(t, table, nr, args);
        else {
          const t0 = process.hrtime.bigint();
          r = dispatch(t, table, nr, args);
          const e = hooks.profile.get(nr) ?? [0, 0n];
          e[0]++;
          e[1] += process.hrtime.bigint() - t0;
          hooks.profile.set(nr, e);
        }
        // rt_sigreturn restored every register itself, rax included.
        if (nr !== SYS_rt_sigreturn) regs[Reg.rax] = BigInt.asUintN(64, r);
        if (t.kernel.hasPendingSignals()) hooks.onKick(t);
        break;
      }
      case 'signal':
        if (trap.signo === KICK_SIGNAL && (trap.code === SI_USER || trap.code === SI_TKILL)) {
          hooks.onKick(t);
          break;
        }
        // A synchronous fault: to its handler, or the task dies with it.
        t.kernel.log.debug(
          `task ${t.tid}: signal ${trap.signo} code ${trap.code} addr 0x${trap.addr.toString(16)}`,
        );
        forceFault(t, { signo: trap.signo, code: trap.code, addr: trap.addr });
        break;
      case 'dead':
        t.exit = { kind: 'killed', signo: SIGKILL, core: false };
        t.kernel.log.warn(`task ${t.tid}: ${trap.reason}`);
        break;
    }
  }
  return t.exit;
}
