// execve(2): the task's image is replaced by a program loaded from the container's files into
// a new address space; `#!` scripts run their interpreter. Until the new image is complete
// nothing of the old one changes, so a failed execve returns its errno to the caller intact.
// After it: close-on-exec descriptors are closed, caught signals go back to their default,
// the alternate stack is gone, and a vfork parent goes on.
//
// It must never trust the file: the loader bounds every size, and an interpreter line is
// read from at most its first 256 bytes, through at most four levels of scripts.

import { deleteProcessTimers } from './posix_timers.js';
import { maxRssKb } from './cputime.js';
import type { Credentials } from '../syscalls/types.js';
import { execCredentials } from './credentials.js';
import { randomFillSync } from 'node:crypto';
import { Errno } from '../../abi/linux/errno.js';
import { O_RDONLY } from '../../abi/linux/file.js';
import { Reg, type AddressSpace, type Registers } from '../../platform/platform.js';
import { loadProgram, type ExecFile } from '../loader/load.js';
import { MemoryManager } from '../mm/memory_manager.js';
import type { FileDescription } from '../vfs/file_description.js';
import { openExecutable, openPath } from '../vfs/open.js';
import { unschedule } from './process_tree.js';
import { SIG_IGN, type Task } from './task.js';

const RLIMIT_STACK = 3;

const MAX_SCRIPT_DEPTH = 4;
const SHEBANG_MAX = 256;

const CLEARED_REGS = [
  Reg.rax,
  Reg.rbx,
  Reg.rcx,
  Reg.rdx,
  Reg.rsi,
  Reg.rdi,
  Reg.rbp,
  Reg.r8,
  Reg.r9,
  Reg.r10,
  Reg.r11,
  Reg.r12,
  Reg.r13,
  Reg.r14,
  Reg.r15,
  Reg.fs_base,
  Reg.gs_base,
];

/** A new image's first registers: the platform's, zeroed, at the entry point and stack. */
export function startRegisters(
  regs: Registers,
  as: AddressSpace,
  loaded: { entry: bigint; sp: bigint },
): void {
  regs.set(as.initialRegisters());
  for (const r of CLEARED_REGS) regs[r] = 0n;
  regs[Reg.rip] = loaded.entry;
  regs[Reg.rsp] = loaded.sp;
}

/** The interpreter line of a script: [interpreter, optional argument], or null if not one. */
function shebang(f: FileDescription): [string, string | null] | null | number {
  const head = new Uint8Array(SHEBANG_MAX);
  const n = f.pread(head, 0);
  if (n < 0) return n;
  if (n < 2 || head[0] !== 0x23 || head[1] !== 0x21) return null;
  let end = head.subarray(0, n).indexOf(0x0a);
  if (end < 0) end = n;
  const line = Buffer.from(head.subarray(2, end)).toString('utf8').trim();
  if (line === '') return -Errno.ENOEXEC;
  const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
  if (m === null || m[1] === undefined) return -Errno.ENOEXEC;
  return [m[1], m[2] === undefined || m[2] === '' ? null : m[2]];
}

/**
 * execve's de_thread: the other threads of the process end without a trace. Difference from
 * Linux: a thread other than the leader keeps its own tid instead of taking the process's.
 */
function killOtherThreads(t: Task): void {
  const k = t.kernel;
  for (const u of [...t.threads]) {
    if (u === t) continue;
    u.exit = { kind: 'killed', signo: 9, core: false };
    // Ended here: the run loop drops it from its lane (its host thread dies with the old
    // address space) and never ends it again.
    u.ended = true;
    unschedule(u);
    if (u !== u.leader) k.tasks.delete(u.tid);
  }
  const leader = t.leader;
  if (leader !== t) {
    // The execing thread becomes the process: its parent, children and group are the old
    // leader's.
    t.parent = leader.parent;
    t.pgid = leader.pgid;
    t.sid = leader.sid;
    t.exitSignal = leader.exitSignal;
    for (const c of leader.children) {
      c.parent = t;
      t.children.add(c);
    }
    leader.children.clear();
    leader.parent?.children.delete(leader);
    leader.parent?.children.add(t);
    k.tasks.delete(leader.tid);
    if (k.init === leader) k.init = t;
    t.leader = t;
  }
  t.threads = new Set([t]);
}

/**
 * The credentials `prog` runs with: set-id bits honoured unless its mount is nosuid or the
 * task has no_new_privs.
 */
function nextCredentials(t: Task, prog: string): Credentials | number {
  const f = openExecutable(t, prog);
  if (typeof f === 'number') return f;
  const st = f.inode.stat();
  const nosuid = f.path?.mount.nosuid ?? true;
  f.decRef();
  if (typeof st === 'number') return st;
  return execCredentials(t.creds, st, nosuid || t.noNewPrivs);
}

/** Replaces `t`'s image with `path` run with `argv` and `envp`; 0 or -errno (image intact). */
export function execve(t: Task, path: string, argv: string[], envp: string[]): number {
  const k = t.kernel;
  let prog = path;
  let args = argv;
  for (let depth = 0; ; depth++) {
    const f = openExecutable(t, prog);
    if (typeof f === 'number') return f;
    const sb = shebang(f);
    f.decRef();
    if (typeof sb === 'number') return sb;
    if (sb === null) break;
    if (depth >= MAX_SCRIPT_DEPTH) return -Errno.ELOOP;
    const [interp, arg] = sb;
    args = [interp, ...(arg === null ? [] : [arg]), prog, ...args.slice(1)];
    prog = interp;
  }
  const creds = nextCredentials(t, prog);
  if (typeof creds === 'number') return creds;
  const as = k.platform.newAddressSpace();
  if (typeof as === 'number') return as;
  const mm = new MemoryManager(k.memoryFile, as, k.platform.maxUserAddress);
  const opened: FileDescription[] = [];
  const open = (p: string): ExecFile | number => {
    const f = opened.length === 0 ? openExecutable(t, p) : openPath(t, p, O_RDONLY);
    if (typeof f !== 'number') opened.push(f);
    return f;
  };
  const random = new Uint8Array(16);
  randomFillSync(random);
  const loaded = loadProgram(mm, open, {
    path: prog,
    argv: args,
    envp,
    uid: creds.uid,
    euid: creds.euid,
    gid: creds.gid,
    egid: creds.egid,
    hwcap: k.hwcap,
    hwcap2: k.hwcap2,
    random,
    stackLimit: t.rlimits.get(RLIMIT_STACK)?.cur,
    vdso: k.vdso !== undefined ? (m) => k.vdso?.map(m) ?? 0n : undefined,
  });
  for (const f of opened) f.decRef();
  if (typeof loaded === 'number') {
    as.release();
    mm.releaseAll();
    return loaded;
  }
  // The point of no return: the old image goes, and with it every other thread.
  killOtherThreads(t);
  deleteProcessTimers(t);
  const old = t.mm;
  const oldThread = t.thread;
  t.mm = mm;
  t.thread = as;
  maxRssKb(t);
  old.dropUser(oldThread);
  startRegisters(t.regs, as, loaded);
  t.files.closeOnExec();
  // The process's credentials change in place: its threads are gone, the object is its own.
  Object.assign(t.creds, creds);
  for (const [sig, act] of [...t.sigactions]) {
    if (act.handler !== SIG_IGN) t.sigactions.delete(sig);
  }
  t.altStack = { sp: 0n, size: 0n, flags: 2 };
  t.clearChildTid = 0n;
  t.robustList = 0n;
  t.comm = (path.split('/').pop() ?? path).slice(0, 15);
  t.argv = args;
  t.envp = envp;
  t.exePath = prog;
  t.vforkReleased = true;
  k.wake = true;
  return 0;
}
