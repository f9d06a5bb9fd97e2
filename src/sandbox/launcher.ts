// Starts one sandbox: the Gofer and the Sentry, connected by a socketpair, per boot_spec.ts.
//
//   gofer:  unshare --mount --propagation private -- (stage 1) -- moat-waiter (stage 2) -- node
//             dist/src/gofer/main.js --root /root [--readonly] --fd 3   (gofer_stage.ts)
//   sentry: moat-waiter -- (stage) -- node dist/src/sentry/main.js /boot.json (sentry_stage.ts)
//           fds 0-2 = the caller's stdio, 3 = the Sentry's socket end, 4 = the ready pipe.
//
// Both start in their own session (detached) with an environment of PATH only, so they can
// outlive the CLI that made them. The socket ends are close-on-exec in this process and are
// dup'ed onto fd 3 of exactly one child each, so neither child holds the other's end. The
// launcher waits for the Sentry's ready line and records both processes by pid and start
// time; the caller then records the sandbox and `commit()`s (the Sentry exits if its launcher
// dies first, and each Gofer exits when its socket closes: a create killed part-way leaves
// nothing running). `detach()` drops every handle on every child, so a CLI that leaves the
// sandbox running can exit. On any failure it kills what it started, by pid, and reports why.
// Never signals a process it did not start; never prints.

import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { markCloexecFrom } from '../host/proc.js';
import type { HostFd } from '../host/fd.js';
import { socketpair, unixListener } from '../host/socket.js';
import type { ProcessRef, SandboxRecord } from '../oci/state_types.js';
import { type BootSpec, COMMIT_LINE, type CommitWord, TIE_LINE, isBindMount } from './boot_spec.js';
import { SandboxError } from './errors.js';
import { goferCommand, releaseGofer } from './gofer_stage.js';
import { sentryCommand } from './sentry_stage.js';
import { SANDBOX_ENV, goferMain, repoRoot, sentryMain } from './paths.js';
import { releaseStage, sentryMaps } from './stage_release.js';
import { childrenOf, refOf, signalRef, waitGone } from './proc_stat.js';

export interface LaunchParams {
  stateDir: string;
  rootfs: string;
  readonlyRoot: boolean;
  boot: BootSpec;
  /** The bundle directory: relative bind-mount sources are relative to it (OCI runtime spec). */
  bundle?: string;
  /** Where the Gofer's stderr goes: an fd opened by the caller, or the caller's stderr. */
  goferStderr?: number | 'inherit' | 'ignore';
  /** The repository whose dist/ holds the Sentry and the Gofer (default: this one). */
  repo?: string;
  readyTimeoutMs?: number;
  /** cgroup.procs files every process of the sandbox joins before it runs. */
  cgroupProcs?: string[];
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchedSandbox {
  record: SandboxRecord;
  /** Resolves when the sandbox (its waiter, whose status is the Sentry's) exits. */
  exited: Promise<ExitStatus>;
  /**
   * Tells the Sentry that the caller has recorded the sandbox (state.json, pid file): until
   * then a Sentry whose launcher goes away exits, so a create killed part-way leaves nothing
   * running. Resolves once the word is written; harmless if the Sentry has already exited.
   */
  commit(word?: CommitWord): Promise<void>;
  /**
   * Drops every handle this process holds on the sandbox (each child and its pipes), so that
   * the CLI can exit while the sandbox lives on. `exited` then never resolves.
   */
  detach(): void;
}

function exitPromise(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function describe(s: ExitStatus): string {
  return s.signal !== null ? `killed by ${s.signal}` : `exit status ${String(s.code)}`;
}

function spawnFailed(child: ChildProcess, what: string): Promise<never> {
  return new Promise((_, reject) => {
    child.once('error', (e) =>
      reject(new SandboxError('SANDBOX_START_FAILED', `start ${what}: ${e.message}`, { cause: e })),
    );
  });
}

/** Reads the first line from the ready pipe. */
function readLine(stream: Readable): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (line: string | undefined): void => {
      stream.removeAllListeners('data');
      stream.removeAllListeners('end');
      stream.pause();
      resolve(line);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      if (buf.includes('\n')) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
      else if (buf.length > 65536) done(buf);
    });
    stream.on('end', () => done(buf === '' ? undefined : buf));
    stream.on('error', () => done(undefined));
  });
}

/** The Sentry's ready pipe (its fd 4): a socket, read for "ready", written for "commit". */
function readyPipe(sentry: ChildProcess): Duplex {
  const pipe = sentry.stdio[4] as Duplex | null | undefined;
  if (pipe === null || pipe === undefined) {
    throw new SandboxError('SANDBOX_START_FAILED', 'start sentry: no ready pipe');
  }
  return pipe;
}

/** Waits for the Sentry's ready line; the pipe stays open for commit (destroyed on error). */
async function waitReady(
  pipe: Duplex,
  exited: Promise<ExitStatus>,
  timeoutMs: number,
): Promise<void> {
  let ok = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const first = await Promise.race([
      readLine(pipe),
      exited.then((s) => ({ exited: s })),
      timeout,
    ]);
    if (first === 'timeout') {
      throw new SandboxError(
        'SANDBOX_START_FAILED',
        `start sentry: not ready after ${timeoutMs / 1000} s`,
      );
    }
    if (typeof first === 'object') {
      throw new SandboxError(
        'SANDBOX_START_FAILED',
        `start sentry: exited before it was ready (${describe(first.exited)})`,
      );
    }
    if (first === undefined) {
      // EOF without a line: the Sentry closed the pipe or died; say which if we can.
      const s = await Promise.race([
        exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 500)),
      ]);
      const why = s === undefined ? 'closed the ready pipe' : `exited (${describe(s)})`;
      throw new SandboxError('SANDBOX_START_FAILED', `start sentry: ${why} before it was ready`);
    }
    let msg: unknown;
    try {
      msg = JSON.parse(first);
    } catch (e) {
      throw new SandboxError('SANDBOX_START_FAILED', `start sentry: bad ready line "${first}"`, {
        cause: e,
      });
    }
    const m = msg as { ok?: unknown; error?: unknown } | null;
    if (m !== null && typeof m === 'object' && m.ok === true) {
      ok = true;
      return;
    }
    const err =
      m !== null && typeof m === 'object' && typeof m.error === 'string' ? m.error : first;
    throw new SandboxError('SANDBOX_START_FAILED', `start sentry: ${err}`);
  } finally {
    clearTimeout(timer);
    if (!ok) pipe.destroy();
  }
}

/**
 * Writes the commit word and closes the pipe (or, to tie the sandbox to this process, keeps it
 * open for as long as this process lives, without keeping the event loop alive). An error
 * means the Sentry is gone already.
 */
function commitOn(pipe: Duplex, word: CommitWord): Promise<void> {
  return new Promise((resolve) => {
    if (pipe.destroyed) {
      resolve();
      return;
    }
    pipe.once('error', () => resolve());
    if (word === TIE_LINE) {
      pipe.write(`${word}\n`, () => resolve());
      (pipe as Duplex & { unref?: () => void }).unref?.();
      return;
    }
    pipe.end(`${word}\n`, () => {
      pipe.destroy();
      resolve();
    });
  });
}

/** Unrefs a child and each of its pipes: nothing of it keeps this process's event loop alive. */
function unrefAll(children: ChildProcess[]): void {
  for (const c of children) {
    c.unref();
    for (const s of c.stdio) {
      const h = s as (Duplex & { unref?: () => void }) | null;
      if (h !== null && typeof h.unref === 'function') h.unref();
    }
  }
}

/** SIGKILLs what was started and waits for it (best effort; used on failure paths). */
async function killAll(refs: ProcessRef[]): Promise<void> {
  for (const r of refs) signalRef(r, 'SIGKILL');
  await waitGone(refs, 5000);
}

/** This process's open descriptors, from /proc/self/fd. */
function openFds(): number[] {
  try {
    return fs.readdirSync('/proc/self/fd').map(Number).filter(Number.isInteger);
  } catch {
    return [];
  }
}

interface Spawned {
  child: ChildProcess;
  ref: ProcessRef;
  /** Rejects if spawn(2) reports an error later; never resolves. */
  failed: Promise<never>;
  exited: Promise<ExitStatus>;
}

/** Writes its own pid into each file named before "--", then execs the rest. */
const JOIN_CGROUPS =
  'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/**
 * Spawns a detached stage (`file`: unshare or the waiter) with an environment of PATH only,
 * and identifies it at once. With cgroups, a shell joins them first and execs the stage (same
 * pid), so that no thread of the process ever runs outside them.
 */
async function spawnTracked(
  what: string,
  { file: stage, args }: { file: string; args: string[] },
  stdio: Array<'ignore' | 'inherit' | 'pipe' | number>,
  cgroupProcs: string[] = [],
): Promise<Spawned> {
  const [file, argv] =
    cgroupProcs.length === 0
      ? [stage, args]
      : ['/bin/sh', ['-c', JOIN_CGROUPS, 'moat-join', ...cgroupProcs, '--', stage, ...args]];
  const child = spawn(file, argv, {
    stdio,
    detached: true,
    env: { ...SANDBOX_ENV },
    cwd: '/',
  });
  const failed = spawnFailed(child, what);
  failed.catch(() => undefined);
  const exited = exitPromise(child);
  const ref = child.pid === undefined ? undefined : refOf(child.pid);
  if (ref === undefined) {
    await Promise.race([failed, exited]);
    throw new SandboxError('SANDBOX_START_FAILED', `start ${what}: it exited at once`);
  }
  return { child, ref, failed, exited };
}

/**
 * The Sentry's fds past 4 start here: the stages' shell uses 5-9 for itself (a POSIX shell
 * names only fds 0-9 in redirections), so nothing handed over may sit there.
 */
const FIRST_EXTRA_FD = 10;
const STAGE_SCRATCH_FDS = [5, 6, 7, 8, 9];

/** Maps a starting stage's user namespace and lets it go on (stage_release.ts). */
async function release(what: string, g: Spawned, sentry = false): Promise<void> {
  try {
    const maps = sentry ? releaseStage(g.ref.pid, sentryMaps()) : releaseGofer(g.ref.pid);
    await Promise.race([maps, g.failed]);
  } catch (e) {
    throw new SandboxError(
      'SANDBOX_START_FAILED',
      `start ${what}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/** A bind mount that gets a Gofer of its own. */
interface BindMount {
  index: number;
  source: string;
  readonly: boolean;
  /** The source is a file (the Gofer serves it as the single entry of its root). */
  file: boolean;
}

/** The bind mounts of config.json whose source is a directory or a regular file. */
function bindMounts(p: LaunchParams): BindMount[] {
  const out: BindMount[] = [];
  (p.boot.mounts ?? []).forEach((m, index) => {
    const opts = m.options ?? [];
    if (!isBindMount(m)) return;
    if (m.source === undefined) return;
    const source = path.resolve(p.bundle ?? '/', m.source);
    let st: fs.Stats;
    try {
      st = fs.statSync(source);
    } catch {
      throw new SandboxError(
        'SANDBOX_START_FAILED',
        `mount "${m.destination}": source "${source}" does not exist`,
      );
    }
    if (st.isDirectory() || st.isFile()) {
      out.push({ index, source, readonly: opts.includes('ro'), file: st.isFile() });
    }
  });
  return out;
}

export async function launchSandbox(p: LaunchParams): Promise<LaunchedSandbox> {
  const repo = p.repo ?? repoRoot();
  for (const [what, file] of [
    ['sentry', sentryMain(repo)],
    ['gofer', goferMain(repo)],
  ] as const) {
    if (!fs.existsSync(file)) {
      throw new SandboxError('SANDBOX_START_FAILED', `start ${what}: "${file}" is missing`);
    }
  }
  const binds = bindMounts(p);
  binds.forEach((b, k) => {
    const m = p.boot.mounts?.[b.index];
    if (m === undefined) return;
    m.goferFd = FIRST_EXTRA_FD + k;
    if (b.file) m.goferFile = true;
  });
  // After the Gofers' sockets: the control socket, then the log file.
  p.boot.controlFd = FIRST_EXTRA_FD + binds.length;
  let logFd: number | undefined;
  if (p.boot.logPath !== undefined) {
    try {
      logFd = fs.openSync(p.boot.logPath, 'a');
      p.boot.logFd = FIRST_EXTRA_FD + binds.length + 1;
    } catch {
      logFd = undefined;
    }
  }
  const bootPath = path.join(p.stateDir, 'boot.json');
  fs.writeFileSync(bootPath, JSON.stringify(p.boot, null, 2), { mode: 0o600 });

  // Nothing the caller left open may reach the sandbox: only fds 0-2 and the ones handed over.
  const r = markCloexecFrom(3, openFds);
  if (r < 0) {
    throw new SandboxError('SANDBOX_START_FAILED', `mark fds close-on-exec: errno ${-r}`);
  }
  const pair = socketpair();
  if (typeof pair === 'number') {
    throw new SandboxError('SANDBOX_START_FAILED', `create gofer socketpair: errno ${-pair}`);
  }
  const [sentryEnd, goferEnd] = pair;
  const control = unixListener(p.boot.controlSocket);
  if (typeof control === 'number') {
    sentryEnd.close();
    goferEnd.close();
    if (logFd !== undefined) fs.closeSync(logFd);
    throw new SandboxError(
      'SANDBOX_START_FAILED',
      `bind control socket "${p.boot.controlSocket}": errno ${-control}`,
    );
  }
  const mountPairs: Array<[HostFd, HostFd]> = [];
  let closed = false;
  const closeEnds = (): void => {
    if (closed) return;
    closed = true;
    sentryEnd.close();
    goferEnd.close();
    control.close();
    if (logFd !== undefined) fs.closeSync(logFd);
    for (const [a, b] of mountPairs) {
      a.close();
      b.close();
    }
  };
  const started: ProcessRef[] = [];
  try {
    const goferStderr = p.goferStderr ?? 'inherit';
    const debug = p.boot.debug === true;
    const cg = p.cgroupProcs ?? [];
    const gofer = await spawnTracked(
      'gofer',
      goferCommand(repo, p.rootfs, p.readonlyRoot, debug),
      ['ignore', 'ignore', goferStderr, goferEnd.fd],
      cg,
    );
    started.push(gofer.ref);
    await release('gofer', gofer);
    const mountGofers: ProcessRef[] = [];
    const children: ChildProcess[] = [gofer.child];
    for (const b of binds) {
      const mp = socketpair();
      if (typeof mp === 'number') {
        throw new SandboxError('SANDBOX_START_FAILED', `create gofer socketpair: errno ${-mp}`);
      }
      mountPairs.push(mp);
      const g = await spawnTracked(
        `gofer for ${b.source}`,
        goferCommand(repo, b.source, b.readonly, debug),
        ['ignore', 'ignore', goferStderr, mp[1].fd],
        cg,
      );
      started.push(g.ref);
      await release(`gofer for ${b.source}`, g);
      mountGofers.push(g.ref);
      children.push(g.child);
    }
    const sentry = await spawnTracked(
      'sentry',
      sentryCommand(repo, bootPath),
      [
        'inherit',
        'inherit',
        'inherit',
        sentryEnd.fd,
        'pipe',
        ...STAGE_SCRATCH_FDS.map(() => 'ignore' as const),
        ...mountPairs.map(([s]) => s.fd),
        control.fd,
        ...(logFd === undefined ? [] : [logFd]),
      ],
      cg,
    );
    started.push(sentry.ref);
    children.push(sentry.child);
    await release('sentry', sentry, true);
    // Our copies of the socket ends must go now: the Gofers must see EOF when the Sentry dies.
    closeEnds();

    const timeout = p.readyTimeoutMs ?? 60_000;
    const pipe = readyPipe(sentry.child);
    await Promise.race([waitReady(pipe, sentry.exited, timeout), sentry.failed]);

    const record: SandboxRecord = {
      sandbox: sentry.ref,
      gofer: gofer.ref,
      controlSocket: p.boot.controlSocket,
    };
    if (mountGofers.length > 0) record.mountGofers = mountGofers;
    // The Sentry is the waiter's only child: pid 1 of the new pid namespace.
    const sentryPid = childrenOf(sentry.ref.pid)[0];
    const sentryRef = sentryPid === undefined ? undefined : refOf(sentryPid);
    if (sentryRef !== undefined) record.sentry = sentryRef;
    return {
      record,
      exited: sentry.exited,
      commit: (word: CommitWord = COMMIT_LINE) => commitOn(pipe, word),
      detach: () => unrefAll(children),
    };
  } catch (e) {
    closeEnds();
    await killAll(started);
    throw e;
  }
}
