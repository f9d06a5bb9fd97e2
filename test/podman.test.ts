// podman drives moat as its OCI runtime, as a user would: `podman run` with exit statuses,
// bind volumes (rw and :ro), environment, stdin, and a detached container stopped and
// removed. podman always adds bind mounts (/etc/hosts, /etc/resolv.conf, /etc/hostname,
// /run/.containerenv), so every case here also checks that `moat create` returns. The
// podman is private to the suite (testlib/podman.ts); at the end nothing of it may be left:
// no process, no mount, no moat state.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerRecord } from '../src/oci/state_types.js';
import { hostMemoryLimit } from '../src/sandbox/cgroups.js';
import { tempDir } from '../testlib/bundle.js';
import { REPO_ROOT } from '../testlib/runners.js';
import { HELD_HANDLES, killMentioning, mountsUnder, waitNoProcesses } from '../testlib/cli_moat.js';
import { IMAGE, type PodmanEnv, findPodman, makePodmanEnv } from '../testlib/podman.js';

const MiB = 1024 * 1024;
const podmanBin = findPodman();
const skip =
  podmanBin === undefined ? 'podman is not installed (scripts/setup.sh installs it)' : false;

describe('podman with moat as its runtime', { skip }, () => {
  let env: PodmanEnv;
  let base = '';

  before(() => {
    base = tempDir('podman');
    if (podmanBin !== undefined) env = makePodmanEnv(podmanBin, base);
  });

  after(async () => {
    if (base === '') return;
    const started = fs.existsSync(path.join(base, 'moat-runtime'));
    if (started) env.run(['rm', '--all', '--force', '--time', '0']);
    const left = await waitNoProcesses(base, 10_000);
    killMentioning(base);
    const mounts = mountsUnder(base);
    for (const m of [...mounts].reverse()) spawnSync('umount', ['-l', m]);
    const moatRoot = path.join(base, 'moat-state');
    const moatLeft = fs.existsSync(moatRoot) ? fs.readdirSync(moatRoot) : [];
    fs.rmSync(base, { recursive: true, force: true });
    assert.deepEqual(left, [], 'processes left after podman rm');
    assert.deepEqual(mounts, [], 'mounts left');
    assert.deepEqual(moatLeft, [], 'moat state left');
  });

  function run(
    args: string[],
    input?: string,
  ): { status: number | null; out: string; err: string } {
    const r = env.run(args, input === undefined ? {} : { input });
    assert.equal(r.signal, null, `podman ${args.join(' ')} hung: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, HELD_HANDLES);
    return { status: r.status, out: r.stdout, err: r.stderr };
  }

  it('run --rm echo', () => {
    const r = run(['run', '--rm', IMAGE, 'echo', 'hello from moat']);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out, 'hello from moat\n');
  });

  it('passes the exit status through', () => {
    const r = run(['run', '--rm', IMAGE, 'sh', '-c', 'exit 7']);
    assert.equal(r.status, 7, r.err);
  });

  it('runs on the systrap platform through --runtime-flag (stdin, exit status)', () => {
    const flag = ['--runtime-flag', 'platform=systrap'];
    const r = run([...flag, 'run', '--rm', '-i', IMAGE, 'sh', '-c', 'wc -c; exit 5'], 'abc');
    assert.equal(r.status, 5, r.err);
    assert.equal(r.out.trim(), '3');
    // The flag does reach moat: a platform it does not know is refused, by name.
    const bad = run(['--runtime-flag', 'platform=bogus', 'run', '--rm', IMAGE, 'true']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.err, /--platform: invalid value "bogus"/);
  });

  it('bind volumes: rw is written through, :ro refuses writes', () => {
    const rw = path.join(base, 'vol-rw');
    const ro = path.join(base, 'vol-ro');
    fs.mkdirSync(rw);
    fs.mkdirSync(ro);
    fs.writeFileSync(path.join(ro, 'f'), 'read-only data\n');
    const script =
      'echo w > /data/x; cat /ro/f; if echo y > /ro/g; then echo wrote; else echo refused; fi';
    const r = run([
      'run',
      '--rm',
      '-v',
      `${rw}:/data`,
      '-v',
      `${ro}:/ro:ro`,
      IMAGE,
      'sh',
      '-c',
      script,
    ]);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out, 'read-only data\nrefused\n');
    assert.equal(fs.readFileSync(path.join(rw, 'x'), 'utf8'), 'w\n');
    assert.equal(fs.existsSync(path.join(ro, 'g')), false);
  });

  it('-e sets the environment', () => {
    const r = run([
      'run',
      '--rm',
      '-e',
      'GREETING=hi there',
      IMAGE,
      'sh',
      '-c',
      'echo "$GREETING"',
    ]);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out, 'hi there\n');
  });

  it('-i passes stdin', () => {
    const r = run(
      ['run', '--rm', '-i', IMAGE, 'sh', '-c', 'wc -l; cat /etc/hostname'],
      'a\nb\nc\n',
    );
    assert.equal(r.status, 0, r.err);
    const [count, host] = r.out.split('\n');
    assert.equal(count?.trim(), '3');
    assert.match(host ?? '', /^[0-9a-f]{12}$/, 'podman’s /etc/hostname bind is visible');
  });

  it('--memory 64m: the limit is on the host cgroup and inside the container', () => {
    const r = run(['run', '--rm', '--memory', '64m', IMAGE, 'grep', 'MemTotal', '/proc/meminfo']);
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /^MemTotal:\s+65536 kB$/m);
    const d = run(['run', '-d', '--memory', '64m', IMAGE, 'sleep', '60']);
    assert.equal(d.status, 0, d.err);
    const id = d.out.trim();
    const rec = JSON.parse(
      fs.readFileSync(path.join(env.moatRoot, id, 'state.json'), 'utf8'),
    ) as ContainerRecord;
    const mem = (rec.sandbox.cgroups?.dirs ?? []).find((x) =>
      fs.existsSync(path.join(x, 'memory.limit_in_bytes')),
    );
    assert.ok(
      mem !== undefined && mem.includes(id),
      `podman's cgroupsPath is used: ${String(mem)}`,
    );
    const limit = Number(fs.readFileSync(path.join(mem, 'memory.limit_in_bytes'), 'utf8'));
    // 64 MiB for the application, plus the Sentry's and the Gofers' own (podman's binds).
    assert.ok(limit > 64 * MiB && limit <= hostMemoryLimit(64 * MiB, 8), String(limit));
    assert.equal(run(['rm', '--force', '--time', '0', id]).status, 0);
    assert.equal(fs.existsSync(mem), false, 'the cgroup is removed with the container');
  });

  it('a detached container: logs, stop, rm', () => {
    const d = run(['run', '-d', IMAGE, 'sh', '-c', 'echo up; exec sleep 60']);
    assert.equal(d.status, 0, d.err);
    const id = d.out.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    let logs = '';
    for (let k = 0; k < 50 && logs === ''; k++) {
      logs = run(['logs', id]).out;
      if (logs === '') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
    assert.equal(logs, 'up\n');
    const ps = run(['ps', '--format', '{{.ID}} {{.Status}}']);
    assert.match(ps.out, new RegExp(`^${id.slice(0, 12)} Up`, 'm'));
    const stop = run(['stop', '--time', '1', id]);
    assert.equal(stop.status, 0, stop.err);
    const code = run(['inspect', '--format', '{{.State.ExitCode}}', id]);
    assert.equal(
      code.out.trim(),
      '137',
      'sleep as pid 1 ignores SIGTERM and is killed, as under runc',
    );
    const rm = run(['rm', id]);
    assert.equal(rm.status, 0, rm.err);
    assert.deepEqual(fs.existsSync(env.moatRoot) ? fs.readdirSync(env.moatRoot) : [], []);
  });

  it("podman's default seccomp profile: refused and unknown calls answer as under runc", () => {
    const dir = path.join(base, 'probe');
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, 'podman_profile_probe');
    const cc = spawnSync('gcc', [
      '-O1',
      '-static',
      '-o',
      probe,
      path.join(REPO_ROOT, 'test/fixtures/podman_profile_probe.c'),
    ]);
    assert.equal(cc.status, 0, String(cc.stderr));
    // podman asks for RLIMIT_NOFILE/NPROC of 1048576/4194304, past this host's hard limits:
    // runc (without CAP_SYS_RESOURCE here) could not start.
    const args = [
      'run',
      '--rm',
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=4096:4096',
      '-v',
      `${dir}:/p:ro`,
      IMAGE,
      '/p/podman_profile_probe',
    ];
    const runc = env.run(args, { runtime: '/usr/sbin/runc' });
    assert.equal(runc.status, 0, runc.stderr);
    assert.match(runc.stdout, /^clock_settime -1 EPERM$/m, 'the profile is in force under runc');
    assert.match(runc.stdout, /^nr_999 -1 ENOSYS$/m);
    const moat = run(args);
    assert.equal(moat.status, 0, moat.err);
    assert.equal(moat.out, runc.stdout);
  });
});
