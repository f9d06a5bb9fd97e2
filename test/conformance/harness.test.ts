// Unit tests of the conformance harness itself (testlib/conformance.ts) and of the bench
// output parser: parsing check lines, comparing two runs, judging against known
// differences (a stale entry must be reported), telling a broken case. They need neither
// gcc nor any runtime, and must never depend on the machine.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  EXIT_CHECK,
  compareRuns,
  judge,
  listCaseSources,
  loadKnownDifferences,
  nativeProblem,
  parseChecks,
  readCaseSource,
} from '../../testlib/conformance.js';
import type { RunResult } from '../../testlib/runners.js';
import { parseBenchOutput } from '../../bench/bench_lib.js';

function result(
  stdout: string,
  status: number | null = 0,
  signal: NodeJS.Signals | null = null,
): RunResult {
  return { runner: 'native', stdout, stderr: '', status, signal, error: null, timedOut: false };
}

test('parseChecks splits name and value, keeps bare lines and repeated names', () => {
  const m = parseChecks('a: ret=0 errno=0\npayload\na: ok\nb: FAIL why: because\n');
  assert.deepEqual(
    [...m],
    [
      ['a', 'ret=0 errno=0'],
      ['payload', ''],
      ['a#2', 'ok'],
      ['b', 'FAIL why: because'],
    ],
  );
});

test('compareRuns reports changed, missing and extra checks and the exit status', () => {
  const native = result('x: ret=0 errno=0\ny: ret=-1 errno=ENOENT\n');
  const other = result('x: ret=0 errno=0\ny: ret=-1 errno=EACCES\nz: ok\n', 1);
  assert.deepEqual(compareRuns(native, other), [
    { check: 'y', native: 'ret=-1 errno=ENOENT', other: 'ret=-1 errno=EACCES' },
    { check: 'z', native: null, other: 'ok' },
    { check: EXIT_CHECK, native: 'status 0', other: 'status 1' },
  ]);
  // A signal natively and 128 + N from a container runtime are the same end.
  assert.deepEqual(compareRuns(result('', null, 'SIGSEGV'), result('', 139)), []);
  assert.deepEqual(compareRuns(result('', null, 'SIGSEGV'), result('', 0)), [
    { check: EXIT_CHECK, native: 'status 139 (SIGSEGV)', other: 'status 0' },
  ]);
  assert.deepEqual(compareRuns(native, result('y: ret=-1 errno=ENOENT\n')), [
    { check: 'x', native: 'ret=0 errno=0', other: null },
  ]);
  assert.deepEqual(compareRuns(native, native), []);
});

test('judge separates known, unexpected and stale entries', () => {
  const known = [
    { case: 'c', check: 'y', reason: 'r' },
    { case: 'c', check: 'gone', reason: 'r' },
    { case: 'other', check: 'x', reason: 'r' },
  ];
  const mism = [
    { check: 'x', native: 'a', other: 'b' },
    { check: 'y', native: 'a', other: 'b' },
  ];
  const v = judge('c', mism, known);
  assert.deepEqual(
    v.unexpected.map((m) => m.check),
    ['x'],
  );
  assert.deepEqual(
    v.known.map((m) => m.check),
    ['y'],
  );
  assert.deepEqual(
    v.stale.map((k) => k.check),
    ['gone'],
  );
});

test('nativeProblem: wrong status, signal, FAIL lines and silence are broken tests', () => {
  assert.equal(nativeProblem(result('a: ok\n'), 0), null);
  assert.equal(nativeProblem(result('a: ok\n', 7), 7), null);
  assert.match(nativeProblem(result('a: ok\n', 1), 0) ?? '', /status 1/);
  assert.match(nativeProblem(result('a: ok\n', null, 'SIGSEGV'), 0) ?? '', /SIGSEGV/);
  assert.match(nativeProblem(result('a: FAIL nope\n'), 0) ?? '', /a: FAIL nope/);
  assert.match(nativeProblem(result(''), 0) ?? '', /no checks/);
  assert.equal(nativeProblem(result('a: ok\n', null, 'SIGSEGV'), 0, 'SIGSEGV'), null);
  assert.match(nativeProblem(result('a: ok\n'), 0, 'SIGSEGV') ?? '', /expected SIGSEGV/);
});

test('case markers: variants, expect-exit, stdin', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-harness-'));
  try {
    const f = path.join(dir, 'x.c');
    fs.writeFileSync(
      f,
      '/*\n * variants: static dynamic\n * expect-exit: 7\n * stdin: conformance-stdin\n */\n',
    );
    const s = readCaseSource(f);
    assert.deepEqual(s.variants, ['static', 'dynamic']);
    assert.equal(s.expectExit, 7);
    assert.equal(s.stdin, 'conformance-stdin\n');
    fs.writeFileSync(f, 'int main(void) { return 0; }\n');
    const d = readCaseSource(f);
    assert.deepEqual(d.variants, ['static']);
    assert.equal(d.expectExit, 0);
    assert.equal(d.stdin, '');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped cases and known-differences file load', () => {
  assert.ok(listCaseSources().length >= 10);
  const known = loadKnownDifferences();
  assert.ok(Array.isArray(known));
});

test('loadKnownDifferences rejects entries without a reason and duplicates', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-harness-'));
  try {
    const f = path.join(dir, 'k.json');
    fs.writeFileSync(f, JSON.stringify([{ case: 'a', check: 'b', reason: ' ' }]));
    assert.throws(() => loadKnownDifferences(f), /empty reason/);
    const e = { case: 'a', check: 'b', reason: 'why' };
    fs.writeFileSync(f, JSON.stringify([e, e]));
    assert.throws(() => loadKnownDifferences(f), /duplicate/);
    fs.writeFileSync(f, JSON.stringify([{ case: 'a', check: 'b' }]));
    assert.throws(() => loadKnownDifferences(f), /reason/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('parseBenchOutput reads "op ns" lines and names what is missing', () => {
  const ok = parseBenchOutput('getppid 12.5\nstat 300\n', ['getppid', 'stat']);
  assert.equal(ok.ok, true);
  if (ok.ok) assert.equal(ok.nsPerOp.get('getppid'), 12.5);
  const bad = parseBenchOutput('getppid 12.5\n', ['getppid', 'stat']);
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.reason, /stat/);
  const none = parseBenchOutput('', ['getppid']);
  assert.equal(none.ok, false);
  if (!none.ok) assert.match(none.reason, /no output/);
});
