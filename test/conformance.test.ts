// The differential syscall conformance suite: every C case under test/conformance/cases is
// compiled (static, and dynamic where the case asks), run natively and under `moat do`,
// and the two outputs are compared check by check. A case that fails natively is a broken
// test. Differences are allowed only by test/conformance/known_differences.json, and an
// entry that no longer differs fails the run. Then the moat-only checks: the application
// is pid 1; system calls the Sentry does not implement or that would change the host do
// not reach the host; each unimplemented call is logged once, by name.
//
// It must never mark a difference acceptable by itself, nor fail on how long anything
// took (timeouts only stop hangs).
//
// Environment: MOAT_CONFORMANCE_TARGET picks what native runs are compared with:
// "moat-do" (the default), "moat-run" (the cases in a busybox bundle under `moat run`), or,
// to check the harness itself, "runc-run", "runsc-run", "runsc-do"; known differences
// apply to the moat targets only. MOAT_CONFORMANCE_RUNSC=1 also runs every case under
// `runsc do` and prints gVisor's differences, as a reference for reading moat's.
// Under "moat-do" every case runs on both platforms (`--platform ptrace` and `systrap`);
// MOAT_CONFORMANCE_PLATFORMS (comma-separated) runs only some.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBusyboxBundle } from '../testlib/bundle.js';
import {
  BUNDLE_BIN,
  BUNDLE_DATA,
  CASES_DIR,
  MOAT_ONLY_DIR,
  addCasesToBundle,
  compareRuns,
  compileOne,
  conformanceWorkDir,
  formatMismatch,
  judge,
  listCaseSources,
  loadKnownDifferences,
  makeDataDir,
  nativeProblem,
  parseChecks,
  readCaseSource,
  type CaseSource,
  type CompiledCase,
  type KnownDifference,
  type Variant,
} from '../testlib/conformance.js';
import {
  describeResult,
  haveProgram,
  moatUnavailable,
  runBundleWith,
  runMoatDo,
  runNative,
  runRunscDo,
  runtimeUnavailable,
  setBundleArgs,
  type RunOptions,
  type RunResult,
} from '../testlib/runners.js';

const TARGETS = ['moat-do', 'moat-run', 'runc-run', 'runsc-run', 'runsc-do'] as const;
type Target = (typeof TARGETS)[number];
const targetEnv = process.env['MOAT_CONFORMANCE_TARGET'] ?? 'moat-do';
if (!(TARGETS as readonly string[]).includes(targetEnv)) {
  throw new Error(`MOAT_CONFORMANCE_TARGET="${targetEnv}": expected one of ${TARGETS.join(', ')}`);
}
const target = targetEnv as Target;
const ALL_PLATFORMS = ['ptrace', 'systrap'] as const;
type PlatformName = (typeof ALL_PLATFORMS)[number];
const platformsEnv = process.env['MOAT_CONFORMANCE_PLATFORMS'];
const platforms: readonly PlatformName[] =
  target !== 'moat-do'
    ? ['ptrace']
    : platformsEnv === undefined
      ? ALL_PLATFORMS
      : ALL_PLATFORMS.filter((p) => platformsEnv.split(',').includes(p));
const work = conformanceWorkDir();
const binDir = path.join(work, 'bin');
const dataDir = path.join(work, 'data');
const sources = listCaseSources();
const gccMissing = haveProgram('gcc') ? null : 'gcc is not installed';
const withRunsc = process.env['MOAT_CONFORMANCE_RUNSC'] === '1';
/** Stops a hung run (a case takes well under a second natively); never a measurement. */
const RUN_TIMEOUT_MS = 60_000;
/** How many differences of one case a failure message lists. */
const MAX_SHOWN = 25;
const bundleDir = path.join(work, 'bundle');
let bundleReady = false;

/** Why the target cannot run here, or null. */
function targetUnavailable(): string | null {
  switch (target) {
    case 'moat-do':
    case 'moat-run':
      return moatUnavailable();
    case 'runc-run':
      return runtimeUnavailable('runc');
    case 'runsc-run':
    case 'runsc-do':
      return runtimeUnavailable('runsc');
  }
}

/**
 * Differences of the reference runtimes that come from how they are run, not from their
 * kernels; used only for the harness-checking targets, never for moat.
 */
function harnessAllowances(caseId: string): KnownDifference[] {
  if (target !== 'runc-run') return [];
  if (caseId !== 'stdio' && caseId !== 'stdio.dynamic') return [];
  const reason =
    "runc run without a terminal gives the container pipes it copies from, not the caller's socket pair (runsc and moat pass the caller's own descriptors)";
  return [
    { case: caseId, check: 'stdin_type', reason },
    { case: caseId, check: 'stdout_type', reason },
  ];
}

/** Runs a compiled case under the target, with the same data and stdin as natively. */
function runTarget(c: CompiledCase, opts: RunOptions, platform: PlatformName): RunResult {
  switch (target) {
    case 'moat-do':
      return runMoatDo([c.binary, dataDir], opts, ['--platform', platform]);
    case 'runsc-do':
      return runRunscDo([c.binary, dataDir], opts);
    case 'moat-run':
    case 'runc-run':
    case 'runsc-run': {
      if (!bundleReady) {
        fs.mkdirSync(bundleDir, { recursive: true });
        // /tmp is a tmpfs, as under `moat do`: write_files.c works there.
        makeBusyboxBundle(bundleDir, {
          args: ['true'],
          mounts: [
            {
              destination: '/tmp',
              type: 'tmpfs',
              source: 'tmpfs',
              options: ['nosuid', 'mode=1777'],
            },
          ],
        });
        bundleReady = true;
      }
      addCasesToBundle(bundleDir, [c]);
      setBundleArgs(bundleDir, [`${BUNDLE_BIN}/${c.id}`, BUNDLE_DATA]);
      const rt = target === 'moat-run' ? 'moat' : target === 'runc-run' ? 'runc' : 'runsc';
      return runBundleWith(rt, bundleDir, opts);
    }
  }
}
let known: KnownDifference[] = [];

before(() => {
  fs.mkdirSync(binDir, { recursive: true });
  makeDataDir(dataDir);
  known = loadKnownDifferences();
});

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function caseIds(): string[] {
  return sources.flatMap((s) =>
    s.variants.map((v) => (v === 'static' ? s.name : `${s.name}.dynamic`)),
  );
}

test('known_differences.json names only existing cases, with a reason each', () => {
  const ids = new Set(caseIds());
  for (const k of known) {
    assert.ok(
      ids.has(k.case),
      `known difference for unknown case "${k.case}" (check "${k.check}")`,
    );
  }
});

function runCase(
  t: test.TestContext,
  src: CaseSource,
  variant: Variant,
  platform: PlatformName,
): void {
  if (gccMissing !== null) {
    t.skip(gccMissing);
    return;
  }
  const c: CompiledCase = compileOne(src, variant, binDir);
  const argv = [c.binary, dataDir];
  const native = runNative(argv, { input: src.stdin, timeoutMs: RUN_TIMEOUT_MS });
  const broken = nativeProblem(native, src.expectExit, src.expectSignal);
  assert.equal(broken, null, `broken test: ${c.id} fails natively: ${broken ?? ''}`);

  if (withRunsc && runtimeUnavailable('runsc') === null) {
    const ref = runRunscDo(argv, { input: src.stdin, timeoutMs: RUN_TIMEOUT_MS });
    for (const m of compareRuns(native, ref))
      t.diagnostic(`runsc differs: ${formatMismatch(m, 'runsc')}`);
  }

  const why = targetUnavailable();
  if (why !== null) {
    t.skip(`${target} cannot run: ${why}`);
    return;
  }
  const other = runTarget(c, { input: src.stdin, timeoutMs: RUN_TIMEOUT_MS }, platform);
  if (parseChecks(other.stdout).size === 0) {
    assert.fail(`${c.id}: printed no checks under ${target} (${describeResult(other)})`);
  }
  const isMoat = target === 'moat-do' || target === 'moat-run';
  const verdict = judge(c.id, compareRuns(native, other), isMoat ? known : harnessAllowances(c.id));
  for (const m of verdict.known) t.diagnostic(`known difference: ${formatMismatch(m, target)}`);
  const problems = [
    ...verdict.unexpected.map((m) => `differs: ${formatMismatch(m, target)}`),
    ...verdict.stale.map(
      (k) =>
        `stale known difference: "${k.check}" no longer differs; remove it from known_differences.json`,
    ),
  ];
  if (problems.length > 0) {
    // The first differences name the cause; a long tail is usually its consequences.
    const shown =
      problems.length > MAX_SHOWN
        ? [...problems.slice(0, MAX_SHOWN), `… and ${problems.length - MAX_SHOWN} more`]
        : problems;
    assert.fail(
      `${c.id}: ${problems.length} problem(s) under ${target} (${describeResult(other)}):\n  ${shown.join('\n  ')}`,
    );
  }
}

describe(`conformance: native vs ${target}`, () => {
  for (const platform of platforms) {
    for (const src of sources) {
      for (const variant of src.variants) {
        const id = variant === 'static' ? src.name : `${src.name}.dynamic`;
        test(platform === 'ptrace' ? id : `${id} [${platform}]`, (t) => {
          runCase(t, src, variant, platform);
        });
      }
    }
  }
});

/** A host directory's entries with type, mode, size, mtime and (for files) content. */
function snapshot(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .sort()
    .map((name) => {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      const body = st.isFile() ? fs.readFileSync(p, 'utf8') : '';
      return `${name} mode=${st.mode.toString(8)} size=${st.size} mtime=${st.mtimeMs} ${JSON.stringify(body)}`;
    });
}

describe('moat only', () => {
  for (const variant of ['static', 'dynamic'] as const) {
    test(`the vDSO answers the time without a trapped call (${variant})`, (t) => {
      if (gccMissing !== null) return t.skip(gccMissing);
      const why = moatUnavailable();
      if (why !== null) return t.skip(`moat cannot run: ${why}`);
      const src = readCaseSource(path.join(CASES_DIR, 'vdso.c'));
      const c = compileOne(src, variant, binDir);
      const logFile = path.join(work, `vdso-${variant}.log`);
      const r = runMoatDo([c.binary], { timeoutMs: RUN_TIMEOUT_MS }, ['--debug', '--log', logFile]);
      assert.equal(r.status, 0, describeResult(r));
      const log = fs.readFileSync(logFile, 'utf8');
      const trapped = (name: string): number =>
        Number(new RegExp(`syscall ${name}: (\\d+) calls`).exec(log)?.[1] ?? '0');
      // The case makes 100,000 calls of each through the vDSO, and a few through the system
      // call on purpose (brackets, clocks the vDSO passes on): those few are all that trap.
      t.diagnostic(
        `trapped: clock_gettime ${trapped('clock_gettime')}, gettimeofday ${trapped('gettimeofday')}, time ${trapped('time')}, getcpu ${trapped('getcpu')}`,
      );
      assert.ok(
        trapped('clock_gettime') <= 20,
        `clock_gettime trapped ${trapped('clock_gettime')} times`,
      );
      assert.ok(
        trapped('gettimeofday') <= 5,
        `gettimeofday trapped ${trapped('gettimeofday')} times`,
      );
      assert.ok(trapped('time') <= 10, `time trapped ${trapped('time')} times`);
      assert.ok(trapped('getcpu') <= 5, `getcpu trapped ${trapped('getcpu')} times`);
    });
  }

  test('the application is pid 1 of its namespace', (t) => {
    if (gccMissing !== null) return t.skip(gccMissing);
    const c = compileOne(readCaseSource(path.join(MOAT_ONLY_DIR, 'pid_one.c')), 'static', binDir);
    const why = moatUnavailable();
    if (why !== null) return t.skip(`moat cannot run: ${why}`);
    const r = runMoatDo([c.binary], { timeoutMs: RUN_TIMEOUT_MS });
    assert.equal(r.status, 0, describeResult(r));
    const lines = parseChecks(r.stdout);
    assert.equal(lines.get('getpid'), 'ret=1 errno=0', r.stdout);
    assert.equal(lines.get('gettid'), 'ret=1 errno=0', r.stdout);
    assert.equal(lines.get('glibc_getpid'), 'ret=1 errno=0', r.stdout);
  });

  test('the sandbox has its own network stack: /proc/net shows its sockets only, no route out', (t) => {
    if (gccMissing !== null) return t.skip(gccMissing);
    const c = compileOne(readCaseSource(path.join(MOAT_ONLY_DIR, 'netstack.c')), 'static', binDir);
    const why = moatUnavailable();
    if (why !== null) return t.skip(`moat cannot run: ${why}`);
    const r = runMoatDo([c.binary], { timeoutMs: RUN_TIMEOUT_MS });
    assert.equal(r.status, 0, describeResult(r));
    const lines = parseChecks(r.stdout);
    const expect: Record<string, string> = {
      bind_4242: 'ret=0 errno=0',
      connect: 'ret=0 errno=0',
      tcp_lines: '4',
      tcp_listen: '1',
      tcp_established: '2',
      udp_5353: '1',
      udp_lines: '2',
      unix_abstract: '1',
      dev_lo: '1',
      dev_lines: '3',
      connect_beyond_loopback: 'ret=-1 errno=ENETUNREACH',
      socket_inet6: 'ret=-1 errno=EAFNOSUPPORT',
    };
    for (const [k, v] of Object.entries(expect)) assert.equal(lines.get(k), v, `${k}\n${r.stdout}`);
  });

  test('unimplemented and host-changing system calls do not reach the host; ENOSYS is logged once', (t) => {
    if (gccMissing !== null) return t.skip(gccMissing);
    const src = readCaseSource(path.join(MOAT_ONLY_DIR, 'host_isolation.c'));
    const c = compileOne(src, 'static', binDir);

    // Natively the program does change its directory: the check below can see a change.
    const nativeDir = path.join(work, 'isolation-native');
    fs.mkdirSync(nativeDir);
    fs.writeFileSync(path.join(nativeDir, 'keep'), 'keep\n');
    const before0 = snapshot(nativeDir);
    const nativeTmp = `/tmp/moat-isolation-native-${process.pid}-${Date.now().toString(36)}`;
    let native: RunResult;
    try {
      native = runNative([c.binary, nativeDir, nativeTmp], { timeoutMs: RUN_TIMEOUT_MS });
      assert.ok(fs.existsSync(`${nativeTmp}/file`), 'natively the program made nothing in /tmp');
    } finally {
      fs.rmSync(nativeTmp, { recursive: true, force: true });
    }
    assert.equal(native.status, 0, describeResult(native));
    assert.notDeepEqual(snapshot(nativeDir), before0, 'natively the program changed nothing');

    const why = moatUnavailable();
    if (why !== null) return t.skip(`moat cannot run: ${why}`);
    const dir = path.join(work, 'isolation-moat');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'keep'), 'keep\n');
    const before1 = snapshot(dir);
    const logFile = path.join(work, 'isolation-moat.log');
    const moatTmp = `/tmp/moat-isolation-moat-${process.pid}-${Date.now().toString(36)}`;
    const r = runMoatDo([c.binary, dir, moatTmp], { timeoutMs: RUN_TIMEOUT_MS }, [
      '--log',
      logFile,
    ]);
    const leaked = fs.existsSync(moatTmp);
    fs.rmSync(moatTmp, { recursive: true, force: true });
    assert.equal(leaked, false, `${moatTmp}, made in the sandbox's /tmp, appeared on the host`);
    t.diagnostic(`moat do printed:\n${r.stdout}`);
    assert.deepEqual(snapshot(dir), before1, `the host directory changed (${describeResult(r)})`);
    assert.equal(r.status, 0, describeResult(r));
    const lines = parseChecks(r.stdout);
    assert.equal(lines.get('syscall_1000'), 'ret=-1 errno=ENOSYS', r.stdout);
    assert.equal(lines.get('add_key'), 'ret=-1 errno=ENOSYS', r.stdout);
    assert.equal(lines.get('add_key_again'), 'ret=-1 errno=ENOSYS', r.stdout);
    assert.equal(lines.get('syscall_1000_again'), 'ret=-1 errno=ENOSYS', r.stdout);

    // Each unimplemented call is reported once per sandbox, by name, in the log.
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    const reports = (what: string): number =>
      log.split('\n').filter((l) => /unimplemented/i.test(l) && l.includes(what)).length;
    assert.equal(reports('add_key'), 1, `add_key reported ${reports('add_key')} times in:\n${log}`);
    assert.equal(
      reports('(1000)'),
      1,
      `syscall 1000 reported ${reports('(1000)')} times in:\n${log}`,
    );
  });
});
