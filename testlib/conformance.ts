// Conformance-suite harness: finds the C cases under test/conformance, compiles them with
// gcc (static, and dynamic for the cases that ask for it), builds the data directory the
// cases read, parses their one-line-per-check output and compares a native run with a run
// under moat check by check, against the one known-differences file.
//
// It must never decide that a difference is acceptable on its own: only an entry of
// test/conformance/known_differences.json does, and an entry that no longer matches a
// difference is reported as stale so that the list only shrinks. It never writes under
// the repository; everything it builds lives in a temporary directory the caller removes.
// Lives outside test/ so that the test runner does not run it as a test.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT, type RunResult } from './runners.js';

export const CONFORMANCE_DIR = path.join(REPO_ROOT, 'test', 'conformance');
export const CASES_DIR = path.join(CONFORMANCE_DIR, 'cases');
export const MOAT_ONLY_DIR = path.join(CONFORMANCE_DIR, 'moat_only');
export const KNOWN_DIFFERENCES_FILE = path.join(CONFORMANCE_DIR, 'known_differences.json');

/**
 * A fresh work directory for compiled cases and data, under /var/tmp: `moat do` mounts
 * its own tmpfs on /tmp (and /dev, /proc), so a program under /tmp is invisible to it.
 * The caller removes it.
 */
export function conformanceWorkDir(): string {
  return fs.mkdtempSync(path.join('/var/tmp', 'moat-conformance-'));
}

/** What every case reads on stdin (stdio.c checks it). */
export const CASE_STDIN = 'conformance-stdin\n';

export type Variant = 'static' | 'dynamic';

export interface CaseSource {
  /** The file name without .c, e.g. "file_read". */
  name: string;
  file: string;
  variants: Variant[];
  /** The exit status the case must end with natively (0 unless `expect-exit:` says). */
  expectExit: number;
  /** What to write to the case's stdin: CASE_STDIN when it says `stdin: conformance-stdin`. */
  stdin: string;
  /** The signal that must kill the case natively (`expect-signal: SIGSEGV`), or null. */
  expectSignal: NodeJS.Signals | null;
}

/** One compiled program: id is the case name, with ".dynamic" for the dynamic variant. */
export interface CompiledCase {
  id: string;
  source: CaseSource;
  variant: Variant;
  binary: string;
}

/**
 * Reads a case's header markers: `variants: static dynamic`, `expect-exit: N`,
 * `stdin: conformance-stdin`, `expect-signal: SIGSEGV`.
 */
export function readCaseSource(file: string): CaseSource {
  const text = fs.readFileSync(file, 'utf8');
  const variantsMatch = /variants:\s*([a-z ]+)/.exec(text);
  const variants: Variant[] = [];
  for (const v of (variantsMatch?.[1] ?? 'static').trim().split(/\s+/)) {
    if (v === 'static' || v === 'dynamic') variants.push(v);
    else throw new Error(`${file}: unknown variant "${v}"`);
  }
  const exitMatch = /expect-exit:\s*(\d+)/.exec(text);
  const signalMatch = /expect-signal:\s*(SIG[A-Z0-9]+)/.exec(text);
  return {
    name: path.basename(file, '.c'),
    file,
    variants,
    expectExit: exitMatch?.[1] !== undefined ? Number(exitMatch[1]) : 0,
    stdin: /stdin:\s*conformance-stdin/.test(text) ? CASE_STDIN : '',
    expectSignal: signalMatch?.[1] !== undefined ? signalName(signalMatch[1], file) : null,
  };
}

function signalName(name: string, file: string): NodeJS.Signals {
  if (!(name in os.constants.signals)) throw new Error(`${file}: unknown signal ${name}`);
  return name as NodeJS.Signals;
}

/** The sources under dir (cases/ or moat_only/), sorted by name. */
export function listCaseSources(dir: string = CASES_DIR): CaseSource[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => readCaseSource(path.join(dir, f)));
}

export interface CompileOutcome {
  compiled: CompiledCase[];
  /** id → gcc's complaint, for sources that did not compile. */
  errors: Map<string, string>;
}

/** Compiles one source in one variant into outDir; returns the binary or throws gcc's output. */
export function compileOne(src: CaseSource, variant: Variant, outDir: string): CompiledCase {
  const id = variant === 'static' ? src.name : `${src.name}.dynamic`;
  const binary = path.join(outDir, id);
  const args = ['-O1', '-Wall', '-Wextra', '-Werror', '-o', binary, src.file];
  if (variant === 'static') args.unshift('-static');
  const r = spawnSync('gcc', args, { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) {
    const why = r.error?.message ?? `${r.stderr}${r.stdout}`.trim();
    throw new Error(`gcc ${args.join(' ')}: ${why}`);
  }
  return { id, source: src, variant, binary };
}

export function compileAll(sources: readonly CaseSource[], outDir: string): CompileOutcome {
  const compiled: CompiledCase[] = [];
  const errors = new Map<string, string>();
  for (const src of sources) {
    for (const v of src.variants) {
      try {
        compiled.push(compileOne(src, v, outDir));
      } catch (e) {
        errors.set(v === 'static' ? src.name : `${src.name}.dynamic`, (e as Error).message);
      }
    }
  }
  return { compiled, errors };
}

/**
 * Builds the data directory the cases read (argv[1]):
 *   hello.txt  "hello, conformance\n" (19 bytes, mode 0644)
 *   big.bin    200000 bytes, byte i = (i * 7) & 0xff
 *   empty      0 bytes
 *   dir/       a, b, c (empty files) and sub/ (an empty directory)
 *   link       -> hello.txt
 *   dangling   -> missing
 *   setid/     copies of cat(1) with set-id bits (when run as root, as the suite is):
 *              cat-suid (root, 04755), cat-sgid (root:4321, 02755), cat-suid-2000
 *              (2000:2000, 04755) — what setid_exec.c execs to read its own credentials
 * Modes are set explicitly so that the umask does not leak into the output.
 */
export function makeDataDir(dir: string): string {
  fs.mkdirSync(path.join(dir, 'dir', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello, conformance\n');
  const big = Buffer.alloc(200000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  fs.writeFileSync(path.join(dir, 'empty'), '');
  for (const f of ['a', 'b', 'c']) fs.writeFileSync(path.join(dir, 'dir', f), '');
  fs.symlinkSync('hello.txt', path.join(dir, 'link'));
  fs.symlinkSync('missing', path.join(dir, 'dangling'));
  for (const f of ['hello.txt', 'big.bin', 'empty', 'dir/a', 'dir/b', 'dir/c']) {
    fs.chmodSync(path.join(dir, f), 0o644);
  }
  for (const d of ['', 'dir', 'dir/sub']) fs.chmodSync(path.join(dir, d), 0o755);
  if (process.geteuid?.() === 0) {
    fs.mkdirSync(path.join(dir, 'setid'), { mode: 0o755 });
    const copies: Array<[string, number, number, number]> = [
      ['cat-suid', 0, 0, 0o4755],
      ['cat-sgid', 0, 4321, 0o2755],
      ['cat-suid-2000', 2000, 2000, 0o4755],
    ];
    for (const [name, uid, gid, mode] of copies) {
      const f = path.join(dir, 'setid', name);
      fs.copyFileSync('/bin/cat', f);
      fs.chownSync(f, uid, gid);
      fs.chmodSync(f, mode);
    }
  }
  return dir;
}

/** check name → the rest of its line ("ret=-1 errno=ENOENT", "ok", "FAIL why"). */
export type CheckLines = Map<string, string>;

/**
 * Splits a case's stdout into checks. A line is "<name>: <value>"; a line without ": " is
 * its own name with an empty value (raw write(2) payloads). A repeated name gets "#2",
 * "#3"… so that nothing is lost.
 */
export function parseChecks(stdout: string): CheckLines {
  const out: CheckLines = new Map();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const i = line.indexOf(': ');
    const base = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 2);
    let name = base;
    for (let n = 2; out.has(name); n++) name = `${base}#${n}`;
    out.set(name, value);
  }
  return out;
}

export interface Mismatch {
  check: string;
  /** null when the check's line is absent from that run. */
  native: string | null;
  other: string | null;
}

/** The pseudo-check that compares how the two runs ended. */
export const EXIT_CHECK = 'exit_status';

/**
 * How a run ended, as compared between runs. A process killed by signal N is reported by
 * container runtimes (runc, runsc, moat) as exit status 128 + N, since the runtime itself
 * was not killed: both spellings map to "status 128+N (SIGNAME)".
 */
export function describeEnd(r: RunResult): string {
  if (r.timedOut) return 'timed out';
  if (r.error !== null) return `not run (${r.error})`;
  const signals = os.constants.signals as Record<string, number>;
  if (r.signal !== null) return `status ${128 + (signals[r.signal] ?? 0)} (${r.signal})`;
  const byNumber = Object.entries(signals).find(
    ([, n]) => r.status !== null && 128 + n === r.status,
  );
  if (byNumber !== undefined) return `status ${String(r.status)} (${byNumber[0]})`;
  return `status ${String(r.status)}`;
}

/** Every check whose line differs between the two runs, in the native run's order. */
export function compareRuns(native: RunResult, other: RunResult): Mismatch[] {
  const a = parseChecks(native.stdout);
  const b = parseChecks(other.stdout);
  const out: Mismatch[] = [];
  for (const [check, v] of a) {
    const w = b.get(check);
    if (w !== v) out.push({ check, native: v, other: w ?? null });
  }
  for (const [check, w] of b) {
    if (!a.has(check)) out.push({ check, native: null, other: w });
  }
  const endA = describeEnd(native);
  const endB = describeEnd(other);
  if (endA !== endB) out.push({ check: EXIT_CHECK, native: endA, other: endB });
  return out;
}

/** Why a native run shows the case itself is broken, or null when it is sound. */
export function nativeProblem(
  r: RunResult,
  expectExit: number,
  expectSignal: NodeJS.Signals | null = null,
): string | null {
  if (r.error !== null || r.timedOut) return `did not run: ${describeEnd(r)}`;
  if (expectSignal !== null) {
    if (r.signal !== expectSignal) return `ended with ${describeEnd(r)}, expected ${expectSignal}`;
  } else if (r.signal !== null || r.status !== expectExit) {
    return `ended with ${describeEnd(r)}, expected status ${expectExit}`;
  }
  const failed = [...parseChecks(r.stdout)].filter(([, v]) => v.startsWith('FAIL'));
  if (failed.length > 0) {
    return `checks failed natively: ${failed.map(([k, v]) => `${k}: ${v}`).join('; ')}`;
  }
  if (r.stdout.trim() === '') return 'printed no checks';
  return null;
}

export function formatMismatch(m: Mismatch, otherName: string): string {
  const show = (v: string | null): string => (v === null ? '(no line)' : JSON.stringify(v));
  return `${m.check}: native ${show(m.native)} vs ${otherName} ${show(m.other)}`;
}

export interface KnownDifference {
  case: string;
  check: string;
  reason: string;
}

/** Loads and validates test/conformance/known_differences.json. */
export function loadKnownDifferences(file: string = KNOWN_DIFFERENCES_FILE): KnownDifference[] {
  const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(raw)) throw new Error(`${file}: expected a JSON array`);
  const seen = new Set<string>();
  return raw.map((e: unknown, i) => {
    if (typeof e !== 'object' || e === null) throw new Error(`${file}[${i}]: not an object`);
    const r = e as Record<string, unknown>;
    const c = r['case'];
    const k = r['check'];
    const why = r['reason'];
    if (typeof c !== 'string' || typeof k !== 'string' || typeof why !== 'string') {
      throw new Error(`${file}[${i}]: needs string fields case, check, reason`);
    }
    if (why.trim() === '') throw new Error(`${file}[${i}]: empty reason`);
    const key = `${c}/${k}`;
    if (seen.has(key)) throw new Error(`${file}[${i}]: duplicate entry ${key}`);
    seen.add(key);
    return { case: c, check: k, reason: why };
  });
}

export interface Verdict {
  /** Differences with no entry in the known-differences file. */
  unexpected: Mismatch[];
  /** Differences the file explains. */
  known: Mismatch[];
  /** Entries for this case whose check no longer differs: they must be removed. */
  stale: KnownDifference[];
}

export function judge(caseId: string, mismatches: Mismatch[], known: KnownDifference[]): Verdict {
  const mine = known.filter((k) => k.case === caseId);
  const explained = new Set(mine.map((k) => k.check));
  const differing = new Set(mismatches.map((m) => m.check));
  return {
    unexpected: mismatches.filter((m) => !explained.has(m.check)),
    known: mismatches.filter((m) => explained.has(m.check)),
    stale: mine.filter((k) => !differing.has(k.check)),
  };
}

/** Where the conformance bundle keeps the compiled cases and the data directory. */
export const BUNDLE_BIN = '/conformance/bin';
export const BUNDLE_DATA = '/conformance/data';

/** The shared objects a dynamic case needs, at the paths its ld.so looks for them. */
const DYNAMIC_LIBS = ['/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/libc.so.6'];

/**
 * Fills the rootfs of an existing bundle (from makeBusyboxBundle) with the compiled cases
 * under /conformance/bin, the data directory at /conformance/data, and glibc's loader and
 * libc for the dynamic variants, so that the same cases run under `moat run` or `runc run`.
 * Called again with more cases, it adds only those.
 */
export function addCasesToBundle(bundleDir: string, cases: readonly CompiledCase[]): void {
  const rootfs = path.join(bundleDir, 'rootfs');
  const bin = path.join(rootfs, BUNDLE_BIN);
  fs.mkdirSync(bin, { recursive: true });
  for (const c of cases) {
    const dest = path.join(bin, c.id);
    fs.copyFileSync(c.binary, dest);
    fs.chmodSync(dest, 0o755);
  }
  const data = path.join(rootfs, BUNDLE_DATA);
  if (fs.existsSync(data)) return; // the data and libraries of an earlier call are there
  fs.mkdirSync(path.dirname(data), { recursive: true });
  makeDataDir(data);
  for (const lib of DYNAMIC_LIBS) {
    const dest = path.join(rootfs, lib);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(fs.realpathSync(lib), dest);
    fs.chmodSync(dest, 0o755);
  }
}
