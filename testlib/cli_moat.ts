// Test helper for the CLI suites: runs bin/moat.js as a separate process against a given
// state root, capturing stdout and stderr through temporary files (a `create`d sandbox keeps
// the caller's stdio open, so pipes would keep a synchronous caller waiting), and cleans up
// state roots by killing only the processes recorded there, identified by pid and start
// time. Lives outside test/ so that the test runner does not run it as a test.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainerRecord, ProcessRef } from '../src/oci/state_types.js';
import { isAlive, signalRef, waitGone } from '../src/sandbox/proc_stat.js';

/** This file compiles to <repo>/dist/testlib/cli_moat.js. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MOAT = path.join(REPO, 'bin', 'moat.js');

export interface MoatResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface MoatOptions {
  cwd?: string;
  timeoutMs?: number;
  /** An fd of ours to hand moat as its fd 100 (a caller's stray descriptor). */
  extraFd?: number;
}

/** stdio for a child that also inherits `fd` as its fd 100 (low fds get reused by Node). */
function strayStdio(out: number, err: number, fd: number): Array<'ignore' | number> {
  const stdio: Array<'ignore' | number> = ['ignore', out, err];
  while (stdio.length < 100) stdio.push('ignore');
  stdio.push(fd);
  return stdio;
}

/** Runs `moat --root <root> ...args` and waits for it. */
export function moat(root: string, args: string[], opts: MoatOptions = {}): MoatResult {
  const dir = fs.mkdtempSync('/tmp/moat-cli-out-');
  const outPath = path.join(dir, 'out');
  const errPath = path.join(dir, 'err');
  const out = fs.openSync(outPath, 'w');
  const err = fs.openSync(errPath, 'w');
  try {
    const r = spawnSync(process.execPath, [MOAT, '--root', root, ...args], {
      stdio: opts.extraFd === undefined ? ['ignore', out, err] : strayStdio(out, err, opts.extraFd),
      cwd: opts.cwd ?? REPO,
      timeout: opts.timeoutMs ?? 60_000,
    });
    return {
      status: r.status,
      signal: r.signal,
      stdout: fs.readFileSync(outPath, 'utf8'),
      stderr: fs.readFileSync(errPath, 'utf8'),
    };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The recorded processes of a container in a state root (empty if there is no record). */
export function recordedProcesses(root: string, id: string): ProcessRef[] {
  try {
    const rec = JSON.parse(
      fs.readFileSync(path.join(root, id, 'state.json'), 'utf8'),
    ) as ContainerRecord;
    const refs = [rec.sandbox.sandbox, rec.sandbox.gofer, ...(rec.sandbox.mountGofers ?? [])];
    if (rec.sandbox.sentry !== undefined) refs.push(rec.sandbox.sentry);
    return refs;
  } catch {
    return [];
  }
}

export function anyAlive(refs: ProcessRef[]): boolean {
  return refs.some(isAlive);
}

/** The host cgroups moat made for a container of a state root (recorded, or listed early). */
export function recordedCgroups(root: string, id: string): string[] {
  const dir = path.join(root, id);
  try {
    const rec = JSON.parse(
      fs.readFileSync(path.join(dir, 'state.json'), 'utf8'),
    ) as ContainerRecord;
    if (rec.sandbox.cgroups !== undefined) return rec.sandbox.cgroups.created;
  } catch {
    // No record: a create that died half-way may have listed them.
  }
  try {
    const list = JSON.parse(fs.readFileSync(path.join(dir, 'cgroups.json'), 'utf8')) as unknown;
    return Array.isArray(list) ? list.filter((d): d is string => typeof d === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Kills whatever the containers of a state root still run (recorded pids, and what is in
 * their cgroups), removes their cgroups and the root.
 */
export async function cleanupRoot(root: string): Promise<void> {
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(root);
  } catch {
    ids = [];
  }
  const refs = ids.flatMap((id) => recordedProcesses(root, id));
  const cgroups = ids.flatMap((id) => recordedCgroups(root, id));
  for (const r of refs) signalRef(r, 'SIGKILL');
  for (const d of cgroups) {
    try {
      for (const pid of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) {
        if (pid !== '') process.kill(Number(pid), 'SIGKILL');
      }
    } catch {
      // Gone already.
    }
  }
  await waitGone(refs, 5000);
  for (let k = 0; k < 100; k++) {
    const left = [...cgroups].reverse().filter((d) => {
      try {
        fs.rmdirSync(d);
        return false;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code !== 'ENOENT';
      }
    });
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  fs.rmSync(root, { recursive: true, force: true });
}

/** Polls `moat state` until the status is one of `want`; returns the last status seen. */
export async function waitStatus(
  root: string,
  id: string,
  want: string[],
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = moat(root, ['state', id]);
    if (r.status === 0) last = (JSON.parse(r.stdout) as { status: string }).status;
    else last = `error: ${r.stderr.trim()}`;
    if (want.includes(last) || Date.now() > deadline) return last;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** The paths the open fds of a process point to ([] once it is gone). */
export function fdTargets(pid: number): string[] {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).map((f) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${f}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

/**
 * Live host processes whose command line mentions `marker` (a test's unique temporary path:
 * the Gofers name their root, the Sentry its boot.json). Zombies have no command line and do
 * not count. Never lists this process.
 */
export function processesMentioning(marker: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(marker)) out.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Waits until no live process mentions `marker`; returns the pids still there at the end. */
export async function waitNoProcesses(marker: string, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = processesMentioning(marker);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** SIGKILLs the processes that mention `marker` (a path only this test made), by pid. */
export function killMentioning(marker: string): void {
  for (const pid of processesMentioning(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Mount points of this mount namespace under `dir`. */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** The line bin/moat.js prints when a finished command still held a handle. */
export const HELD_HANDLES = /still holding .* after the command returned/;
