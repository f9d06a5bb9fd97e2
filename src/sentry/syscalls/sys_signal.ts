// Signals, as far as the walking skeleton goes: dispositions and masks are recorded exactly
// (rt_sigaction, rt_sigprocmask, sigaltstack), and a signal sent to oneself with kill/tgkill
// takes its default action or is ignored. Delivering to a handler (signal frames,
// rt_sigreturn) is not implemented yet: such a delivery ends the task as the default action
// would, and rt_sigreturn answers ENOSYS. Nothing here signals a host process.

import { Errno } from '../../abi/linux/errno.js';
import { SIG_DFL, SIG_IGN, type Task } from '../kernel/task.js';
import { int } from './args.js';
import type { SyscallEntry } from './types.js';

export const SIGKILL = 9;
export const SIGSTOP = 19;
const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));

/** Signals whose default action is to ignore them. */
const DEFAULT_IGNORE = new Set([17, 23, 28]); // SIGCHLD, SIGURG, SIGWINCH
/** Signals whose default action dumps core. */
const DEFAULT_CORE = new Set([3, 4, 5, 6, 7, 8, 11, 24, 25, 31]);

/** Implements Linux syscall rt_sigaction(2). */
function rtSigaction(t: Task, a: readonly bigint[]): number {
  const sig = int(a[0] ?? 0n);
  if ((a[3] ?? 0n) !== 8n) return -Errno.EINVAL;
  if (sig < 1 || sig > 64) return -Errno.EINVAL;
  const actPtr = a[1] ?? 0n;
  const oldPtr = a[2] ?? 0n;
  if (actPtr !== 0n && (sig === SIGKILL || sig === SIGSTOP)) return -Errno.EINVAL;
  let next;
  if (actPtr !== 0n) {
    const b = t.mem.copyIn(actPtr, 32);
    if (typeof b === 'number') return b;
    const v = new BigUint64Array(b.buffer);
    next = {
      handler: v[0] ?? 0n,
      flags: v[1] ?? 0n,
      restorer: v[2] ?? 0n,
      mask: (v[3] ?? 0n) & ~UNBLOCKABLE,
    };
  }
  if (oldPtr !== 0n) {
    const old = t.sigactions.get(sig) ?? { handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n };
    const r = t.mem.copyOut(
      oldPtr,
      new Uint8Array(new BigUint64Array([old.handler, old.flags, old.restorer, old.mask]).buffer),
    );
    if (r < 0) return r;
  }
  if (next) t.sigactions.set(sig, next);
  return 0;
}

/** Implements Linux syscall rt_sigprocmask(2). */
function rtSigprocmask(t: Task, a: readonly bigint[]): number {
  const how = int(a[0] ?? 0n);
  const setPtr = a[1] ?? 0n;
  const oldPtr = a[2] ?? 0n;
  if ((a[3] ?? 0n) !== 8n) return -Errno.EINVAL;
  let set: bigint | undefined;
  if (setPtr !== 0n) {
    const b = t.mem.copyIn(setPtr, 8);
    if (typeof b === 'number') return b;
    set = new BigUint64Array(b.buffer)[0] ?? 0n;
    if (how !== SIG_BLOCK && how !== SIG_UNBLOCK && how !== SIG_SETMASK) return -Errno.EINVAL;
  }
  if (oldPtr !== 0n) {
    const r = t.mem.copyOut(oldPtr, new Uint8Array(new BigUint64Array([t.sigmask]).buffer));
    if (r < 0) return r;
  }
  if (set !== undefined) {
    if (how === SIG_BLOCK) t.sigmask |= set;
    else if (how === SIG_UNBLOCK) t.sigmask &= ~set;
    else t.sigmask = set;
    t.sigmask &= ~UNBLOCKABLE;
  }
  return 0;
}

/** Implements Linux syscall sigaltstack(2): the stack is recorded (no frames are built yet). */
function sigaltstack(t: Task, a: readonly bigint[]): number {
  const oldPtr = a[1] ?? 0n;
  if ((a[0] ?? 0n) !== 0n) {
    const b = t.mem.copyIn(a[0] ?? 0n, 24);
    if (typeof b === 'number') return b;
  }
  if (oldPtr !== 0n) {
    const ss = new Uint8Array(24);
    new DataView(ss.buffer).setInt32(8, 2, true); // SS_DISABLE
    const r = t.mem.copyOut(oldPtr, ss);
    if (r < 0) return r;
  }
  return 0;
}

/** Applies `sig` to `t`: ignored, or the task ends as the default action says. */
export function sendSignal(t: Task, sig: number): void {
  if (sig === 0) return;
  const act = t.sigactions.get(sig);
  const handler = act?.handler ?? SIG_DFL;
  if (sig !== SIGKILL && handler === SIG_IGN) return;
  if (sig !== SIGKILL && handler === SIG_DFL && DEFAULT_IGNORE.has(sig)) return;
  if (handler !== SIG_DFL && sig !== SIGKILL) {
    t.kernel.log.warn(
      `signal ${sig} has a handler, but handler delivery is not implemented: the task ends`,
    );
  }
  t.exit = { kind: 'killed', signo: sig, core: DEFAULT_CORE.has(sig) };
}

/** Implements Linux syscall kill(2) within the sandbox (one process for now). */
function kill(t: Task, a: readonly bigint[]): number {
  const pid = int(a[0] ?? 0n);
  const sig = int(a[1] ?? 0n);
  if (sig < 0 || sig > 64) return -Errno.EINVAL;
  if (pid !== t.tgid && pid !== 0 && pid !== -1 && pid !== -t.tgid) return -Errno.ESRCH;
  sendSignal(t, sig);
  return 0;
}

/** Implements Linux syscall tgkill(2). */
function tgkill(t: Task, a: readonly bigint[]): number {
  const tgid = int(a[0] ?? 0n);
  const tid = int(a[1] ?? 0n);
  const sig = int(a[2] ?? 0n);
  if (tgid <= 0 || tid <= 0 || sig < 0 || sig > 64) return -Errno.EINVAL;
  if (tgid !== t.tgid || tid !== t.tid) return -Errno.ESRCH;
  sendSignal(t, sig);
  return 0;
}

/** Implements Linux syscall tkill(2). */
function tkill(t: Task, a: readonly bigint[]): number {
  return tgkill(t, [BigInt(t.tgid), a[0] ?? 0n, a[1] ?? 0n]);
}

export const signalSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [
    13,
    {
      name: 'rt_sigaction',
      handler: rtSigaction,
      support: 'partial',
      note: 'recorded; handlers are not yet called',
    },
  ],
  [14, { name: 'rt_sigprocmask', handler: rtSigprocmask, support: 'full' }],
  [131, { name: 'sigaltstack', handler: sigaltstack, support: 'partial', note: 'recorded only' }],
  [
    62,
    { name: 'kill', handler: kill, support: 'partial', note: 'one process; default actions only' },
  ],
  [234, { name: 'tgkill', handler: tgkill, support: 'partial' }],
  [200, { name: 'tkill', handler: tkill, support: 'partial' }],
]);
