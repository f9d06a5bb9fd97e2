// Test harness: runs one command natively, under `moat do`, or as an OCI bundle under
// `moat run`, `runc run` and `runsc run` (ptrace platform), and captures its stdout,
// stderr, exit status and terminating signal. Used by the conformance, busybox-vs-runc and
// benchmark suites so that all of them run programs the same way.
//
// It must never kill anything it did not start: timeouts kill only the child it spawned
// (spawnSync's own kill), and containers are cleaned up by id with `<runtime> delete
// --force <id>` in the state root this module created. Every state root is a fresh
// temporary directory, removed afterwards. Output is always captured through pipes (Node
// hands a child Unix socket pairs, which behave as pipes here): runsc writes a container's
// output at offset 0 of a regular-file stdout, and a pipe or a socket has no offset.
// Lives outside test/ so that the test runner does not run it as a test.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: this file compiles to <repo>/dist/testlib/runners.js. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MOAT_BIN = path.join(REPO_ROOT, 'bin', 'moat.js');

export type RunnerName = 'native' | 'moat-do' | 'moat' | 'moat-systrap' | 'runc' | 'runsc';

export interface RunResult {
  runner: RunnerName;
  stdout: string;
  stderr: string;
  /** Exit status, or null when the process was killed by a signal or never started. */
  status: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started or was killed by our timeout. */
  error: string | null;
  timedOut: boolean;
}

export interface RunOptions {
  /** Bytes for the process's stdin (a pipe); empty stdin (EOF) when absent. */
  input?: string;
  /** Safety net against hangs, not a measurement: the child is killed after it. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
let serial = 0;

/** A container id unique to this process and call. */
export function uniqueId(prefix: string): string {
  serial += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${serial}`;
}

function spawnCaptured(
  runner: RunnerName,
  file: string,
  args: readonly string[],
  opts: RunOptions,
): RunResult {
  const r = spawnSync(file, args, {
    input: opts.input ?? '',
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    env: opts.env ?? process.env,
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  });
  let err = r.error as (Error & { code?: string }) | undefined;
  const timedOut = err?.code === 'ETIMEDOUT';
  // EPIPE: the program ended without reading all of its stdin; it did run.
  if (err?.code === 'EPIPE' && (r.status !== null || r.signal !== null)) err = undefined;
  return {
    runner,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    status: r.status,
    signal: r.signal,
    error: err ? `${file}: ${err.message}` : null,
    timedOut,
  };
}

/** Runs argv directly on the host. */
export function runNative(argv: readonly string[], opts: RunOptions = {}): RunResult {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('runNative: empty argv');
  return spawnCaptured('native', file, args, opts);
}

/** Runs argv in a sandbox over the host's root file system: `moat do -- argv`. */
export function runMoatDo(
  argv: readonly string[],
  opts: RunOptions = {},
  /** Global flags before `do`, e.g. ['--log', file]. */
  globals: readonly string[] = [],
): RunResult {
  // `moat do` keeps its state root under os.tmpdir(): pointing TMPDIR at a directory of our
  // own lets us find the sandbox it left behind if it was killed or failed, and delete it
  // by id. moat do passes only PATH, HOME, TERM and LANG to the program, so TMPDIR does
  // not reach it.
  const tmp = fs.mkdtempSync(path.join('/tmp', 'moat-do-tmp-'));
  try {
    const env = { ...(opts.env ?? process.env), TMPDIR: tmp };
    const args = [MOAT_BIN, ...globals, 'do', '--', ...argv];
    const r = spawnCaptured('moat-do', process.execPath, args, {
      ...opts,
      env,
    });
    for (const root of fs.readdirSync(tmp).filter((d) => d.startsWith('moat-do-'))) {
      const rootDir = path.join(tmp, root);
      for (const id of fs.readdirSync(rootDir)) {
        spawnSync(process.execPath, [MOAT_BIN, '--root', rootDir, 'delete', '--force', id], {
          stdio: 'ignore',
          timeout: 30_000,
          killSignal: 'SIGKILL',
        });
      }
    }
    return r;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Runs argv under `runsc do` (gVisor over the host's root file system, ptrace platform): a
 * reference for the conformance suite, to tell a harness problem from a moat problem.
 */
export function runRunscDo(argv: readonly string[], opts: RunOptions = {}): RunResult {
  const root = fs.mkdtempSync(path.join('/tmp', 'moat-state-runsc-do-'));
  try {
    const globals = ['--root', root, '--network=none', '--platform=ptrace'];
    return spawnCaptured('runsc', 'runsc', [...globals, 'do', '--', ...argv], opts);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

type BundleRuntime = 'moat' | 'moat-systrap' | 'runc' | 'runsc';

/** The command and global flags of runtime `rt` with state under `root`. */
export function bundleRuntimeCommand(rt: BundleRuntime, root: string): [string, string[]] {
  switch (rt) {
    case 'moat':
      return [process.execPath, [MOAT_BIN, '--root', root]];
    case 'moat-systrap':
      return [process.execPath, [MOAT_BIN, '--root', root, '--platform', 'systrap']];
    case 'runc':
      return ['runc', ['--root', root]];
    case 'runsc':
      return ['runsc', ['--root', root, '--network=none', '--platform=ptrace']];
  }
}

function runBundle(rt: BundleRuntime, bundleDir: string, opts: RunOptions): RunResult {
  const root = fs.mkdtempSync(path.join('/tmp', `moat-state-${rt}-`));
  const id = uniqueId(`conf-${rt}`);
  const [file, globals] = bundleRuntimeCommand(rt, root);
  try {
    const r = spawnCaptured(rt, file, [...globals, 'run', '--bundle', bundleDir, id], opts);
    if (r.status !== 0 || r.timedOut || r.error !== null) {
      // The container may outlive a killed or failed runtime process: remove it by id.
      spawnSync(file, [...globals, 'delete', '--force', id], {
        stdio: 'ignore',
        timeout: 30_000,
        killSignal: 'SIGKILL',
      });
    }
    return r;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** `node bin/moat.js --root <tmp> run --bundle <dir> <id>`. */
export function runMoatBundle(bundleDir: string, opts: RunOptions = {}): RunResult {
  return runBundle('moat', bundleDir, opts);
}

/** `runc --root <tmp> run --bundle <dir> <id>`. */
export function runRuncBundle(bundleDir: string, opts: RunOptions = {}): RunResult {
  return runBundle('runc', bundleDir, opts);
}

/** `runsc --root <tmp> --network=none --platform=ptrace run --bundle <dir> <id>`. */
export function runRunscBundle(bundleDir: string, opts: RunOptions = {}): RunResult {
  return runBundle('runsc', bundleDir, opts);
}

export function runBundleWith(
  rt: BundleRuntime,
  bundleDir: string,
  opts: RunOptions = {},
): RunResult {
  return runBundle(rt, bundleDir, opts);
}

/** Rewrites process.args of an existing bundle, so that one rootfs serves several commands. */
export function setBundleArgs(bundleDir: string, args: readonly string[]): void {
  const file = path.join(bundleDir, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as { process: { args: string[] } };
  config.process.args = [...args];
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
}

/** Whether an executable is found on PATH (or at the given absolute path). */
export function haveProgram(name: string): boolean {
  if (path.isAbsolute(name)) return fs.existsSync(name);
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir !== '' && fs.existsSync(path.join(dir, name))) return true;
  }
  return false;
}

/**
 * Why moat cannot be run at all (the launcher or the compiled CLI missing), or null when it
 * can be tried. It does not say whether moat works: that is what the suites find out.
 */
export function moatUnavailable(): string | null {
  if (!fs.existsSync(MOAT_BIN)) return `${MOAT_BIN} is missing`;
  const cli = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
  if (!fs.existsSync(cli)) return `${cli} is missing (the CLI is not built yet)`;
  return null;
}

/** Why runc/runsc cannot be used here, or null. */
export function runtimeUnavailable(name: 'runc' | 'runsc'): string | null {
  if (process.getuid?.() !== 0) return `${name} needs root`;
  if (!haveProgram(name)) return `${name} is not installed`;
  return null;
}

/** A one-line description of how a run ended, for assertion messages. */
export function describeResult(r: RunResult): string {
  const how = r.timedOut
    ? 'timed out (killed)'
    : r.error !== null
      ? `could not run: ${r.error}`
      : r.signal !== null
        ? `killed by ${r.signal}`
        : `exit status ${String(r.status)}`;
  // The first lines of stderr say what failed (a stack trace's message), the last ones
  // what the runtime concluded: keep both ends.
  const lines = r.stderr.trim().split('\n');
  const kept = lines.length <= 8 ? lines : [...lines.slice(0, 5), '…', ...lines.slice(-3)];
  const tail = r.stderr.trim() === '' ? '' : `; stderr: ${kept.join(' | ')}`;
  return `${r.runner}: ${how}${tail}`;
}
