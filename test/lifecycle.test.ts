// The container lifecycle through the real command line, the real Sentry and the real
// Gofer, on a busybox bundle: create → state → start → state → delete; `run` and its exit
// status; kill; delete --force; `do`; and the error paths (unknown and invalid ids, a
// malformed config.json, a missing rootfs), which must fail with a clear message and leave
// nothing in the state root. Each test has its own state root and bundle, and cleans up only
// the processes recorded there.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import type { BundleOptions } from '../testlib/bundle.js';
import {
  MOAT,
  anyAlive,
  cleanupRoot,
  fdTargets,
  moat,
  recordedProcesses,
  waitStatus,
} from '../testlib/cli_moat.js';

const dirs: string[] = [];
const roots: string[] = [];

function newRoot(): string {
  const base = tempDir('life-root');
  dirs.push(base);
  const root = path.join(base, 'state');
  roots.push(root);
  return root;
}

function newBundle(opts: BundleOptions): string {
  const dir = tempDir('life-bundle');
  dirs.push(dir);
  return makeBusyboxBundle(dir, opts);
}

afterEach(async () => {
  for (const r of roots.splice(0)) await cleanupRoot(r);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The state root holds no container directory (it may not exist at all). */
function assertEmptyRoot(root: string): void {
  const left = fs.existsSync(root) ? fs.readdirSync(root) : [];
  assert.deepEqual(left, [], `left in the state root: ${left.join(', ')}`);
}

function ok(r: { status: number | null; stderr: string }, what: string): void {
  assert.equal(r.status, 0, `${what} failed: ${r.stderr}`);
}

describe('lifecycle errors', () => {
  it('rejects unknown container ids', () => {
    const root = newRoot();
    for (const cmd of [['state'], ['start'], ['kill'], ['delete']]) {
      const r = moat(root, [...cmd, 'nosuch']);
      assert.equal(r.status, 1, cmd.join(' '));
      assert.match(r.stderr, /^moat: .*container "nosuch" does not exist/m, cmd.join(' '));
    }
    assertEmptyRoot(root);
  });

  it('rejects invalid container ids before touching the state root', () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['true'] });
    for (const id of ['../evil', '.x', 'a/b', 'x'.repeat(1025)]) {
      const r = moat(root, ['create', '--bundle', bundle, id]);
      assert.equal(r.status, 1, id);
      assert.match(r.stderr, /^moat: invalid container id/m);
    }
    assertEmptyRoot(root);
    assert.equal(fs.existsSync(path.join(path.dirname(root), 'evil')), false);
  });

  it('rejects a malformed config.json, naming the position', () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['true'] });
    fs.writeFileSync(
      path.join(bundle, 'config.json'),
      '{\n  "ociVersion": "1.0.2",\n  "process": [,\n',
    );
    const r = moat(root, ['create', '--bundle', bundle, 'c']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^moat: config\.json: invalid JSON at line 3, column 15: /m);
    assertEmptyRoot(root);
  });

  it('rejects an invalid field, naming it', () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['true'] });
    const file = path.join(bundle, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { process: { args: unknown } };
    cfg.process.args = [];
    fs.writeFileSync(file, JSON.stringify(cfg));
    const r = moat(root, ['run', '--bundle', bundle, 'c']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^moat: config\.json: process\.args: must be a non-empty array/m);
    assertEmptyRoot(root);
  });

  it('rejects a missing rootfs', () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['true'] });
    fs.rmSync(path.join(bundle, 'rootfs'), { recursive: true });
    const r = moat(root, ['create', '--bundle', bundle, 'c']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^moat: config\.json: root\.path: ".*rootfs": no such directory/m);
    assertEmptyRoot(root);
  });

  it('reports the Sentry’s own error (missing executable) and leaves nothing', () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['/no/such/program'] });
    const r = moat(root, ['create', '--bundle', bundle, 'c']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^moat: create container "c": start sentry: .*\/no\/such\/program/m);
    assertEmptyRoot(root);
    const again = moat(root, ['create', '--bundle', newBundle({ args: ['true'] }), 'c']);
    assert.equal(again.status, 0, `the id is free again: ${again.stderr}`);
    const dup = moat(root, ['create', '--bundle', bundle, 'c']);
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /^moat: container "c" already exists$/m);
    assert.equal(moat(root, ['delete', 'c']).status, 0);
    assertEmptyRoot(root);
  });

  it('refuses --console-socket with a clear message', () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['true'] });
    const r = moat(root, ['create', '--bundle', bundle, '--console-socket', '/x.sock', 'c']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^moat: --console-socket: terminals are not supported yet/m);
    assertEmptyRoot(root);
  });
});

describe('lifecycle', () => {
  it('create → created → start → running/stopped → delete leaves nothing', async () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['sleep', '1'] });
    const pidFile = path.join(bundle, 'pid');
    ok(moat(root, ['create', '--bundle', bundle, '--pid-file', pidFile, 'c1']), 'create');
    const refs = recordedProcesses(root, 'c1');
    assert.ok(refs.length >= 2, 'sandbox and gofer recorded');
    let st = moat(root, ['state', 'c1']);
    ok(st, 'state');
    const state = JSON.parse(st.stdout) as Record<string, unknown>;
    assert.equal(state.status, 'created');
    assert.equal(state.id, 'c1');
    assert.equal(state.bundle, bundle);
    assert.equal(typeof state.pid, 'number');
    assert.equal(fs.readFileSync(pidFile, 'utf8'), String(state.pid));
    const list = moat(root, ['list', '--format', 'json']);
    ok(list, 'list');
    assert.deepEqual(
      (JSON.parse(list.stdout) as Array<{ id: string }>).map((c) => c.id),
      ['c1'],
    );
    ok(moat(root, ['start', 'c1']), 'start');
    st = moat(root, ['state', 'c1']);
    ok(st, 'state after start');
    assert.match((JSON.parse(st.stdout) as { status: string }).status, /^(running|stopped)$/);
    assert.notEqual(moat(root, ['start', 'c1']).status, 0, 'a second start fails');
    assert.equal(await waitStatus(root, 'c1', ['stopped']), 'stopped');
    ok(moat(root, ['delete', 'c1']), 'delete');
    assert.equal(anyAlive(refs), false, 'no sandbox process left');
    assertEmptyRoot(root);
  });

  it('run returns the container exit status and deletes it', () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['sh', '-c', 'echo out-$((1+2)); exit 3'] });
    const r = moat(root, ['run', '--bundle', bundle, 'r1']);
    assert.equal(r.status, 3, `stderr: ${r.stderr}`);
    assert.match(r.stdout, /out-3/);
    assertEmptyRoot(root);
  });

  it('kill stops a running container; kill of a stopped one fails', async () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['sleep', '100'] });
    ok(moat(root, ['run', '--detach', '--bundle', bundle, 'k1']), 'run --detach');
    const refs = recordedProcesses(root, 'k1');
    assert.equal(await waitStatus(root, 'k1', ['running']), 'running');
    const ps = moat(root, ['ps', '--format', 'json', 'k1']);
    ok(ps, 'ps');
    assert.ok((JSON.parse(ps.stdout) as number[]).length >= 1, 'ps lists the init process');
    ok(moat(root, ['kill', 'k1', 'KILL']), 'kill');
    assert.equal(await waitStatus(root, 'k1', ['stopped']), 'stopped');
    const again = moat(root, ['kill', 'k1', 'SIGTERM']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /not running/);
    ok(moat(root, ['delete', 'k1']), 'delete');
    assert.equal(anyAlive(refs), false);
    assertEmptyRoot(root);
  });

  it('run forwards SIGTERM to the container and returns 128+15', async () => {
    const root = newRoot();
    // PID 1 ignores signals it has no handler for (as under runc), so the shell traps TERM.
    const bundle = newBundle({
      args: ['sh', '-c', 'trap "exit 143" TERM; while true; do true; done'],
    });
    const child = spawn(process.execPath, [MOAT, '--root', root, 'run', '-b', bundle, 's1'], {
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      assert.equal(await waitStatus(root, 's1', ['running']), 'running');
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(20_000).then(() => 'timeout' as const)]);
      assert.equal(code, 143);
      assertEmptyRoot(root);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });

  it('a container with children: ps lists them, kill ends them all, delete leaves nothing', async () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['sh', '-c', 'sleep 100 & sleep 100 & wait'] });
    ok(moat(root, ['run', '-d', '-b', bundle, 'c1']), 'run -d');
    const refs = recordedProcesses(root, 'c1');
    assert.equal(await waitStatus(root, 'c1', ['running']), 'running');
    let pids: number[] = [];
    for (let i = 0; i < 200 && pids.length < 3; i++) {
      const ps = moat(root, ['ps', '--format', 'json', 'c1']);
      ok(ps, 'ps');
      pids = JSON.parse(ps.stdout) as number[];
      if (pids.length < 3) await sleep(50);
    }
    assert.deepEqual(pids, [1, 2, 3]);
    ok(moat(root, ['kill', 'c1', 'KILL']), 'kill');
    assert.equal(await waitStatus(root, 'c1', ['stopped']), 'stopped');
    ok(moat(root, ['delete', 'c1']), 'delete');
    assert.equal(anyAlive(refs), false);
    assertEmptyRoot(root);
  });

  it('SIGTERM reaches a shell waiting for its child; its trap ends the container', async () => {
    const root = newRoot();
    const bundle = newBundle({
      args: ['sh', '-c', 'trap "exit 143" TERM; sleep 100 & wait; echo not-reached'],
    });
    ok(moat(root, ['run', '-d', '-b', bundle, 't1']), 'run -d');
    assert.equal(await waitStatus(root, 't1', ['running']), 'running');
    for (let i = 0; i < 200; i++) {
      const ps = moat(root, ['ps', '--format', 'json', 't1']);
      if ((JSON.parse(ps.stdout) as number[]).length >= 2) break;
      await sleep(50);
    }
    ok(moat(root, ['kill', 't1', 'TERM']), 'kill TERM');
    assert.equal(await waitStatus(root, 't1', ['stopped']), 'stopped');
    ok(moat(root, ['delete', 't1']), 'delete');
    assertEmptyRoot(root);
  });

  it('delete refuses a running container without --force and removes it with it', async () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['sleep', '100'] });
    ok(moat(root, ['run', '-d', '-b', bundle, 'f1']), 'run -d');
    const refs = recordedProcesses(root, 'f1');
    assert.equal(await waitStatus(root, 'f1', ['running']), 'running');
    const r = moat(root, ['delete', 'f1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /running/);
    ok(moat(root, ['delete', '--force', 'f1']), 'delete --force');
    assert.equal(anyAlive(refs), false);
    assertEmptyRoot(root);
  });

  it('delete of a created container kills its sandbox; no stray fd reaches it', () => {
    const root = newRoot();
    const bundle = newBundle({ args: ['true'] });
    const marker = path.join(bundle, 'stray-fd-marker');
    const stray = fs.openSync(marker, 'w');
    try {
      ok(moat(root, ['create', '-b', bundle, 'd1'], { extraFd: stray }), 'create');
    } finally {
      fs.closeSync(stray);
    }
    const refs = recordedProcesses(root, 'd1');
    for (const r of refs) {
      assert.ok(!fdTargets(r.pid).includes(marker), `pid ${r.pid} holds the caller's stray fd`);
    }
    ok(moat(root, ['delete', 'd1']), 'delete');
    assert.equal(anyAlive(refs), false);
    assertEmptyRoot(root);
  });

  it('do runs a host command read-only and returns its status', () => {
    const root = newRoot();
    const r = moat(root, ['do', '--', '/bin/sh', '-c', 'echo in-do; exit 5']);
    assert.equal(r.status, 5, `stderr: ${r.stderr}`);
    assert.match(r.stdout, /in-do/);
  });
});
