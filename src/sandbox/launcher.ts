// Starts one sandbox: the Gofer and the Sentry, connected by a socketpair, per boot_spec.ts.
//
//   gofer:  unshare --mount --propagation private -- node dist/src/gofer/main.js
//             --root <rootfs> [--readonly] --fd 3          (fd 3 = the Gofer's socket end)
//   sentry: unshare --mount --uts --ipc --net --pid --fork --kill-child --propagation private
//             -- node dist/src/sentry/main.js <state dir>/boot.json
//           fds 0-2 = the caller's stdio, 3 = the Sentry's socket end, 4 = the ready pipe.
//
// Both start in their own session (detached) with an environment of PATH only, so they can
// outlive the CLI that made them. The socket ends are close-on-exec in this process and are
// dup'ed onto fd 3 of exactly one child each, so neither child holds the other's end. The
// launcher waits for the Sentry's ready line and records both processes by pid and start
// time. On any failure it kills what it started, by pid, and reports why. Never signals a
// process it did not start; never prints.

import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { socketpair } from '../host/socket.js';
import type { ProcessRef, SandboxRecord } from '../oci/state_types.js';
import type { BootSpec } from './boot_spec.js';
import { SandboxError } from './errors.js';
import { SANDBOX_ENV, goferMain, repoRoot, sentryMain, unsharePath } from './paths.js';
import { childrenOf, refOf, signalRef, waitGone } from './proc_stat.js';

export interface LaunchParams {
  stateDir: string;
  rootfs: string;
  readonlyRoot: boolean;
  boot: BootSpec;
  /** Where the Gofer's stderr goes: an fd opened by the caller, or the caller's stderr. */
  goferStderr?: number | 'inherit' | 'ignore';
  /** The repository whose dist/ holds the Sentry and the Gofer (default: this one). */
  repo?: string;
  readyTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchedSandbox {
  record: SandboxRecord;
  sentryChild: ChildProcess;
  goferChild: ChildProcess;
  /** Resolves when the sandbox (`unshare`, whose status is the Sentry's) exits. */
  exited: Promise<ExitStatus>;
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
      resolve(line);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
      else if (buf.length > 65536) done(buf);
    });
    stream.on('end', () => done(buf === '' ? undefined : buf));
    stream.on('error', () => done(undefined));
  });
}

async function waitReady(
  sentry: ChildProcess,
  exited: Promise<ExitStatus>,
  timeoutMs: number,
): Promise<void> {
  const pipe = sentry.stdio[4] as Readable | null | undefined;
  if (pipe === null || pipe === undefined) {
    throw new SandboxError('SANDBOX_START_FAILED', 'start sentry: no ready pipe');
  }
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
    if (m !== null && typeof m === 'object' && m.ok === true) return;
    const err =
      m !== null && typeof m === 'object' && typeof m.error === 'string' ? m.error : first;
    throw new SandboxError('SANDBOX_START_FAILED', `start sentry: ${err}`);
  } finally {
    clearTimeout(timer);
    pipe.destroy();
  }
}

/** SIGKILLs what was started and waits for it (best effort; used on failure paths). */
async function killAll(refs: ProcessRef[]): Promise<void> {
  for (const r of refs) signalRef(r, 'SIGKILL');
  await waitGone(refs, 5000);
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
  const bootPath = path.join(p.stateDir, 'boot.json');
  fs.writeFileSync(bootPath, JSON.stringify(p.boot, null, 2), { mode: 0o600 });

  const pair = socketpair();
  if (typeof pair === 'number') {
    throw new SandboxError('SANDBOX_START_FAILED', `create gofer socketpair: errno ${-pair}`);
  }
  const [sentryEnd, goferEnd] = pair;
  const unshare = unsharePath();
  const started: ProcessRef[] = [];
  let gofer: ChildProcess | undefined;
  let sentry: ChildProcess | undefined;
  try {
    const goferArgs = ['--mount', '--propagation', 'private', '--', process.execPath];
    goferArgs.push(goferMain(repo), '--root', p.rootfs);
    if (p.readonlyRoot) goferArgs.push('--readonly');
    goferArgs.push('--fd', '3');
    if (p.boot.debug === true) goferArgs.push('--debug');
    gofer = spawn(unshare, goferArgs, {
      stdio: ['ignore', 'ignore', p.goferStderr ?? 'inherit', goferEnd.fd],
      detached: true,
      env: { ...SANDBOX_ENV },
      cwd: '/',
    });
    const goferSpawn = spawnFailed(gofer, 'gofer');
    goferSpawn.catch(() => undefined);
    const goferRef = gofer.pid === undefined ? undefined : refOf(gofer.pid);
    if (goferRef === undefined) await Promise.race([goferSpawn, exitPromise(gofer)]);
    if (goferRef === undefined) {
      throw new SandboxError('SANDBOX_START_FAILED', 'start gofer: it exited at once');
    }
    started.push(goferRef);

    const sentryArgs = ['--mount', '--uts', '--ipc', '--net', '--pid', '--fork', '--kill-child'];
    sentryArgs.push('--propagation', 'private', '--', process.execPath, sentryMain(repo));
    sentryArgs.push(bootPath);
    sentry = spawn(unshare, sentryArgs, {
      stdio: ['inherit', 'inherit', 'inherit', sentryEnd.fd, 'pipe'],
      detached: true,
      env: { ...SANDBOX_ENV },
      cwd: '/',
    });
    const sentrySpawn = spawnFailed(sentry, 'sentry');
    sentrySpawn.catch(() => undefined);
    const exited = exitPromise(sentry);
    const sandboxRef = sentry.pid === undefined ? undefined : refOf(sentry.pid);
    if (sandboxRef === undefined) await Promise.race([sentrySpawn, exited]);
    if (sandboxRef === undefined) {
      throw new SandboxError('SANDBOX_START_FAILED', 'start sentry: it exited at once');
    }
    started.push(sandboxRef);
    // Our copies of the socket ends must go now: the Gofer must see EOF when the Sentry dies.
    sentryEnd.close();
    goferEnd.close();

    await Promise.race([waitReady(sentry, exited, p.readyTimeoutMs ?? 60_000), sentrySpawn]);

    const record: SandboxRecord = {
      sandbox: sandboxRef,
      gofer: goferRef,
      controlSocket: p.boot.controlSocket,
    };
    const sentryPid = childrenOf(sandboxRef.pid)[0];
    const sentryRef = sentryPid === undefined ? undefined : refOf(sentryPid);
    if (sentryRef !== undefined) record.sentry = sentryRef;
    return { record, sentryChild: sentry, goferChild: gofer, exited };
  } catch (e) {
    sentryEnd.close();
    goferEnd.close();
    await killAll(started);
    throw e;
  }
}
