// `moat create` as podman's conmon and containerd's shim run it: a separate process that
// must exit as soon as the sandbox is created, whatever the spec holds (here several bind
// mounts, each with a Gofer of its own), and that must leave nothing running when it is
// killed part-way. Then start, the container's output, delete, and a host with no process,
// mount, socket or state file left. Every path a test makes lies under one temporary
// directory, whose name is how its processes are found (and, on failure, ended by pid).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessRef } from '../src/oci/state_types.js';
import { refOf, waitGone } from '../src/sandbox/proc_stat.js';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import {
  HELD_HANDLES,
  MOAT,
  REPO,
  killMentioning,
  moat,
  mountsUnder,
  processesMentioning,
  recordedCgroups,
  waitNoProcesses,
  waitStatus,
} from '../testlib/cli_moat.js';

const bases: string[] = [];

afterEach(async () => {
  for (const b of bases.splice(0)) {
    killMentioning(b);
    await waitNoProcesses(b, 5000);
    fs.rmSync(b, { recursive: true, force: true });
  }
});

interface Setup {
  base: string;
  root: string;
  bundle: string;
  out: string;
}

/** A bundle with rw, ro, directory and file bind mounts, under a fresh base directory. */
function setup(script: string): Setup {
  const base = tempDir('create-exits');
  bases.push(base);
  const host = path.join(base, 'host');
  for (const d of ['rw', 'ro']) fs.mkdirSync(path.join(host, d), { recursive: true });
  fs.writeFileSync(path.join(host, 'ro', 'note'), 'from a read-only bind\n');
  fs.writeFileSync(path.join(host, 'file'), 'from a file bind\n');
  fs.writeFileSync(path.join(host, 'hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  const bundle = makeBusyboxBundle(path.join(base, 'bundle'), {
    args: ['sh', '-c', script],
    mounts: [
      { destination: '/rw', type: 'bind', source: path.join(host, 'rw'), options: ['rbind', 'rw'] },
      { destination: '/ro', type: 'bind', source: path.join(host, 'ro'), options: ['rbind', 'ro'] },
      {
        destination: '/etc/file',
        type: 'bind',
        source: path.join(host, 'file'),
        options: ['bind'],
      },
      {
        destination: '/etc/hosts',
        type: 'bind',
        source: path.join(host, 'hosts'),
        options: ['rbind', 'ro'],
      },
    ],
  });
  return { base, root: path.join(base, 'state'), bundle, out: path.join(base, 'out') };
}

/** Runs `moat create` with the container's stdio on files; fails the test if it hangs. */
function createDetached(s: Setup, id: string): { status: number | null; ms: number; err: string } {
  const out = fs.openSync(s.out, 'w');
  const errFile = path.join(s.base, `create-${id}.err`);
  const err = fs.openSync(errFile, 'w');
  const t0 = Date.now();
  try {
    const r = spawnSync(
      process.execPath,
      [MOAT, '--root', s.root, 'create', '--bundle', s.bundle, '--pid-file', `${s.base}/pid`, id],
      { stdio: ['ignore', out, err], cwd: REPO, timeout: 30_000 },
    );
    const ms = Date.now() - t0;
    const text = fs.readFileSync(errFile, 'utf8');
    assert.equal(r.signal, null, `moat create did not exit within 30 s (${text})`);
    return { status: r.status, ms, err: text };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

/** Nothing of the container is left: no process, mount, cgroup, control socket or state. */
async function assertNothingLeft(s: Setup, cgroups: string[] = []): Promise<void> {
  for (const d of cgroups) assert.equal(fs.existsSync(d), false, `cgroup ${d} left`);
  const left = await waitNoProcesses(s.base);
  assert.deepEqual(left, [], `processes left: ${left.join(', ')}`);
  assert.deepEqual(mountsUnder(s.base), []);
  const ids = fs.existsSync(s.root) ? fs.readdirSync(s.root).filter((n) => n !== '.s') : [];
  assert.deepEqual(ids, [], 'state directories left');
  const sockets = path.join(s.root, '.s');
  assert.deepEqual(fs.existsSync(sockets) ? fs.readdirSync(sockets) : [], [], 'sockets left');
}

describe('create exits, start runs, delete cleans', () => {
  it('with rw, ro, directory and file bind mounts', async () => {
    const s = setup('cat /etc/file /ro/note; echo written > /rw/out; grep -c . /etc/hosts; exit 3');
    const c = createDetached(s, 'binds');
    assert.equal(c.status, 0, c.err);
    assert.doesNotMatch(c.err, HELD_HANDLES);
    assert.equal(c.err, '');
    const pid = Number(fs.readFileSync(`${s.base}/pid`, 'utf8'));
    assert.ok(pid > 0 && fs.existsSync(`/proc/${pid}`), 'the pid file names a live process');
    assert.equal(await waitStatus(s.root, 'binds', ['created']), 'created');

    const st = moat(s.root, ['start', 'binds']);
    assert.equal(st.status, 0, st.stderr);
    assert.doesNotMatch(st.stderr, HELD_HANDLES);
    assert.equal(await waitStatus(s.root, 'binds', ['stopped']), 'stopped');
    const lines = fs.readFileSync(s.out, 'utf8').split('\n');
    assert.deepEqual(lines.slice(0, 2), ['from a file bind', 'from a read-only bind']);
    assert.equal(lines[2], '2');
    assert.equal(fs.readFileSync(path.join(s.base, 'host', 'rw', 'out'), 'utf8'), 'written\n');

    const cgroups = recordedCgroups(s.root, 'binds');
    assert.ok(cgroups.length > 0, 'the sandbox had cgroups');
    const d = moat(s.root, ['delete', 'binds']);
    assert.equal(d.status, 0, d.stderr);
    await assertNothingLeft(s, cgroups);
  });

  it('a created container deleted without start leaves nothing', async () => {
    const s = setup('echo never');
    const c = createDetached(s, 'unstarted');
    assert.equal(c.status, 0, c.err);
    assert.ok(processesMentioning(s.base).length >= 4, 'the Sentry and four Gofers run');
    const cgroups = recordedCgroups(s.root, 'unstarted');
    const d = moat(s.root, ['delete', 'unstarted']);
    assert.equal(d.status, 0, d.stderr);
    await assertNothingLeft(s, cgroups);
    assert.equal(fs.readFileSync(s.out, 'utf8'), '');
  });

  it('run --detach returns while the container runs', async () => {
    const s = setup('sleep 30');
    const r = moat(s.root, ['run', '--detach', '--bundle', s.bundle, 'bg'], { timeoutMs: 30_000 });
    assert.equal(r.signal, null, 'moat run --detach did not exit');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, HELD_HANDLES);
    assert.equal(await waitStatus(s.root, 'bg', ['running']), 'running');
    const cgroups = recordedCgroups(s.root, 'bg');
    assert.equal(moat(s.root, ['delete', '--force', 'bg']).status, 0);
    await assertNothingLeft(s, cgroups);
  });
});

describe('the container pid killed', () => {
  it('SIGKILL of the pid state.json names (an engine’s last resort) ends the whole sandbox', async () => {
    const s = setup('sleep 30');
    const r = moat(s.root, ['run', '--detach', '--bundle', s.bundle, 'victim'], {
      timeoutMs: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(await waitStatus(s.root, 'victim', ['running']), 'running');
    const state = JSON.parse(moat(s.root, ['state', 'victim']).stdout) as { pid: number };
    const cgroups = recordedCgroups(s.root, 'victim');
    process.kill(state.pid, 'SIGKILL');
    // The Sentry, its stubs and the Gofers go with it (death signals, then socket EOF).
    assert.deepEqual(await waitNoProcesses(s.base, 20_000), [], 'processes left');
    assert.equal(await waitStatus(s.root, 'victim', ['stopped']), 'stopped');
    assert.equal(moat(s.root, ['delete', 'victim']).status, 0);
    await assertNothingLeft(s, cgroups);
  });
});

describe('create killed part-way', () => {
  it('leaves nothing running, and delete --force cleans what it recorded', async () => {
    const probe = setup('true');
    const c = createDetached(probe, 'probe');
    assert.equal(c.status, 0, c.err);
    assert.equal(moat(probe.root, ['delete', 'probe']).status, 0);
    // Kill points spread over the whole create, and a little past it.
    const span = Math.max(50, Math.round(c.ms * 1.2));
    const rounds = 8;
    for (let k = 0; k < rounds; k++) {
      const s = setup('echo should-not-run');
      const id = `k${k}`;
      const out = fs.openSync(s.out, 'w');
      const child = spawn(
        process.execPath,
        [MOAT, '--root', s.root, 'create', '--bundle', s.bundle, id],
        { stdio: ['ignore', out, 'ignore'], cwd: REPO },
      );
      fs.closeSync(out);
      const exited = new Promise((res) => child.once('exit', res));
      const delay = Math.round(((k + Math.random()) / rounds) * span);
      await sleep(delay);
      child.kill('SIGKILL');
      await exited;
      const recorded = fs.existsSync(path.join(s.root, id, 'state.json'));
      const status = recorded ? await waitStatus(s.root, id, ['created', 'stopped'], 5000) : '';
      if (status !== 'created') {
        // Nobody recorded it as running: it must go away by itself.
        const left = await waitNoProcesses(s.base);
        assert.deepEqual(left, [], `kill at ${delay} ms of ${span}: processes left running`);
      }
      const cgroups = recordedCgroups(s.root, id);
      const d = moat(s.root, ['delete', '--force', id]);
      assert.equal(d.status, 0, `kill at ${delay} ms: delete --force: ${d.stderr}`);
      await assertNothingLeft(s, cgroups);
      assert.equal(fs.readFileSync(s.out, 'utf8'), '', 'the init process never ran');
    }
  });
});

describe('moat do killed', () => {
  it('takes its sandbox with it', async () => {
    const child = spawn(process.execPath, [MOAT, 'do', '--', 'sleep', '30'], {
      stdio: 'ignore',
      cwd: '/',
    });
    const exited = new Promise((res) => child.once('exit', res));
    const cli = child.pid ?? 0;
    // The sandbox (`unshare`, then the Sentry under it) runs once the sleep is started.
    let refs: ProcessRef[] = [];
    for (let k = 0; k < 200 && refs.length < 2; k++) {
      await sleep(50);
      const pids = childPids(cli).flatMap((p) => [p, ...childPids(p)]);
      const found = pids.map(refOf).filter((r): r is ProcessRef => r !== undefined);
      refs = found.some((r) => childPids(r.pid).length > 0) ? found : [];
    }
    assert.ok(refs.length >= 2, 'the sandbox started');
    child.kill('SIGKILL');
    await exited;
    // A Gofer still waiting for its identity map gives up after a few seconds.
    assert.ok(await waitGone(refs, 20_000), 'the sandbox ended with moat do');
  });
});

/** The children of a host process (all its threads'), from /proc. */
function childPids(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' '))
      .filter((s) => s.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}
