// The differential syscall conformance suite: every C case under test/conformance/cases is
// compiled (static, and dynamic where the case asks), run natively and under `moat do`,
// and the two outputs are compared check by check. A case that fails natively is a broken
// test. Differences are allowed only by test/conformance/known_differences.json, and an
// entry that no longer differs fails the run. Then the moat-only checks: the application
// is pid 1, and system calls the Sentry does not implement or that would change the host
// do not reach the host.
//
// It must never mark a difference acceptable by itself, nor fail on how long anything
// took (timeouts only stop hangs). Set MOAT_CONFORMANCE_RUNSC=1 to also run every case
// under `runsc do` and print gVisor's differences, as a reference for reading moat's.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  MOAT_ONLY_DIR,
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
  runMoatDo,
  runNative,
  runRunscDo,
  runtimeUnavailable,
} from '../testlib/runners.js';

const work = conformanceWorkDir();
const binDir = path.join(work, 'bin');
const dataDir = path.join(work, 'data');
const sources = listCaseSources();
const gccMissing = haveProgram('gcc') ? null : 'gcc is not installed';
const withRunsc = process.env['MOAT_CONFORMANCE_RUNSC'] === '1';
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

function runCase(t: test.TestContext, src: CaseSource, variant: Variant): void {
  if (gccMissing !== null) {
    t.skip(gccMissing);
    return;
  }
  const c: CompiledCase = compileOne(src, variant, binDir);
  const argv = [c.binary, dataDir];
  const native = runNative(argv, { input: src.stdin });
  const broken = nativeProblem(native, src.expectExit);
  assert.equal(broken, null, `broken test: ${c.id} fails natively: ${broken ?? ''}`);

  if (withRunsc && runtimeUnavailable('runsc') === null) {
    const ref = runRunscDo(argv, { input: src.stdin });
    for (const m of compareRuns(native, ref))
      t.diagnostic(`runsc differs: ${formatMismatch(m, 'runsc')}`);
  }

  const why = moatUnavailable();
  if (why !== null) {
    t.skip(`moat cannot run: ${why}`);
    return;
  }
  const moat = runMoatDo(argv, { input: src.stdin });
  const verdict = judge(c.id, compareRuns(native, moat), known);
  for (const m of verdict.known) t.diagnostic(`known difference: ${formatMismatch(m, 'moat')}`);
  const problems = [
    ...verdict.unexpected.map((m) => `differs: ${formatMismatch(m, 'moat')}`),
    ...verdict.stale.map(
      (k) =>
        `stale known difference: "${k.check}" no longer differs; remove it from known_differences.json`,
    ),
  ];
  if (problems.length > 0) {
    assert.fail(
      `${c.id}: ${problems.length} problem(s) under moat do (${describeResult(moat)}):\n  ${problems.join('\n  ')}`,
    );
  }
}

describe('conformance: native vs moat do', () => {
  for (const src of sources) {
    for (const variant of src.variants) {
      const id = variant === 'static' ? src.name : `${src.name}.dynamic`;
      test(id, (t) => {
        runCase(t, src, variant);
      });
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
  test('the application is pid 1 of its namespace', (t) => {
    if (gccMissing !== null) return t.skip(gccMissing);
    const c = compileOne(readCaseSource(path.join(MOAT_ONLY_DIR, 'pid_one.c')), 'static', binDir);
    const why = moatUnavailable();
    if (why !== null) return t.skip(`moat cannot run: ${why}`);
    const r = runMoatDo([c.binary]);
    assert.equal(r.status, 0, describeResult(r));
    const lines = parseChecks(r.stdout);
    assert.equal(lines.get('getpid'), 'ret=1 errno=0', r.stdout);
    assert.equal(lines.get('gettid'), 'ret=1 errno=0', r.stdout);
    assert.equal(lines.get('glibc_getpid'), 'ret=1 errno=0', r.stdout);
  });

  test('unimplemented and host-changing system calls do not reach the host', (t) => {
    if (gccMissing !== null) return t.skip(gccMissing);
    const src = readCaseSource(path.join(MOAT_ONLY_DIR, 'host_isolation.c'));
    const c = compileOne(src, 'static', binDir);

    // Natively the program does change its directory: the check below can see a change.
    const nativeDir = path.join(work, 'isolation-native');
    fs.mkdirSync(nativeDir);
    fs.writeFileSync(path.join(nativeDir, 'keep'), 'keep\n');
    const before0 = snapshot(nativeDir);
    const native = runNative([c.binary, nativeDir]);
    assert.equal(native.status, 0, describeResult(native));
    assert.notDeepEqual(snapshot(nativeDir), before0, 'natively the program changed nothing');

    const why = moatUnavailable();
    if (why !== null) return t.skip(`moat cannot run: ${why}`);
    const dir = path.join(work, 'isolation-moat');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'keep'), 'keep\n');
    const before1 = snapshot(dir);
    const r = runMoatDo([c.binary, dir]);
    t.diagnostic(`moat do printed:\n${r.stdout}`);
    assert.deepEqual(snapshot(dir), before1, `the host directory changed (${describeResult(r)})`);
    assert.equal(r.status, 0, describeResult(r));
    const lines = parseChecks(r.stdout);
    assert.equal(lines.get('syscall_1000'), 'ret=-1 errno=ENOSYS', r.stdout);
    assert.equal(lines.get('add_key'), 'ret=-1 errno=ENOSYS', r.stdout);
  });
});
