// Shared file mappings of files served by a Gofer (a writable bind mount), side by side with
// runc: a C program stores through MAP_SHARED mappings, reads with read(2), forks writers,
// maps privately, and msyncs; both runtimes must print the same lines, and leave the same
// bytes in the host files (write-back after msync/munmap, bounded by the file's size).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import { REPO_ROOT, runMoatBundle, runRuncBundle } from '../testlib/runners.js';

let dir = '';
let prog = '';

before(() => {
  dir = tempDir('mmbind');
  prog = path.join(dir, 'mm_bind_shared');
  execFileSync('gcc', [
    '-O1',
    '-static',
    '-o',
    prog,
    path.join(REPO_ROOT, 'test/fixtures/mm_bind_shared.c'),
  ]);
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function runOn(runner: 'moat' | 'runc'): { out: string; status: number | null; files: string[] } {
  const base = fs.mkdtempSync(path.join(dir, `${runner}-`));
  const data = path.join(base, 'data');
  fs.mkdirSync(data);
  const bundle = makeBusyboxBundle(path.join(base, 'bundle'), {
    args: ['/mm_bind_shared', '/data'],
    files: [[prog, 'mm_bind_shared']],
    mounts: [{ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] }],
  });
  fs.mkdirSync(path.join(bundle, 'rootfs/data'));
  const r = runner === 'moat' ? runMoatBundle(bundle) : runRuncBundle(bundle);
  const files = fs
    .readdirSync(data)
    .sort()
    .map((n) => `${n} ${fs.readFileSync(path.join(data, n)).toString('base64')}`);
  return { out: r.stdout + r.stderr, status: r.status, files };
}

test('shared file mappings on a bind mount: moat matches runc, host files included', () => {
  const runc = runOn('runc');
  assert.equal(runc.status, 0, runc.out);
  assert.match(runc.out, /done\n$/);
  assert.doesNotMatch(runc.out, /FAIL/);
  const moat = runOn('moat');
  assert.equal(moat.out, runc.out);
  assert.equal(moat.status, runc.status);
  assert.deepEqual(moat.files, runc.files);
});
