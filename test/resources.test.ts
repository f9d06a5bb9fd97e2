// linux.resources as a hostile container meets them: an 8 GiB balloon under a 512 MiB memory
// limit (its process is OOM-killed, the host's available memory drops by about the limit), a
// fork bomb under a pids limit of 100 (fork fails with EAGAIN at 100 tasks), and the host
// cgroups that carry the limits while the sandbox runs and are gone after it. Each bundle
// places its cgroups under this test's own cgroup (a relative cgroupsPath).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerRecord } from '../src/oci/state_types.js';
import { GOFER_OVERHEAD, SENTRY_OVERHEAD, hostMemoryLimit } from '../src/sandbox/cgroups.js';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import { MOAT, REPO, cleanupRoot, waitNoProcesses } from '../testlib/cli_moat.js';
import {
  describeResult,
  runMoatBundle,
  runRuncBundle,
  runtimeUnavailable,
} from '../testlib/runners.js';

let dir = '';
const MiB = 1024 * 1024;

before(() => {
  dir = tempDir('resources');
  for (const p of ['balloon', 'forkbomb']) {
    execFileSync('gcc', [
      '-O1',
      '-static',
      '-o',
      path.join(dir, p),
      `${REPO}/test/fixtures/${p}.c`,
    ]);
  }
});

after(async () => {
  await cleanupRoot(path.join(dir, 'state'));
  await waitNoProcesses(dir, 5000);
  fs.rmSync(dir, { recursive: true, force: true });
});

function bundle(name: string, script: string, resources: object): string {
  const b = makeBusyboxBundle(path.join(dir, name), {
    args: ['sh', '-c', script],
    files: [
      [path.join(dir, 'balloon'), 'bin/balloon'],
      [path.join(dir, 'forkbomb'), 'bin/forkbomb'],
    ],
  });
  const file = path.join(b, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { linux: Record<string, unknown> };
  cfg.linux['resources'] = resources;
  cfg.linux['cgroupsPath'] = `moat-test-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(file, JSON.stringify(cfg));
  return b;
}

function memAvailable(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

interface Observed {
  code: number | null;
  out: string;
  /** The largest drop of the host's available memory seen while it ran. */
  maxDrop: number;
  /** The sandbox's cgroup directories, read from its record while it ran. */
  cgroups: string[];
  /** memory.limit_in_bytes (or memory.max) of its memory cgroup, read while it ran. */
  hostLimit: string;
}

/** `moat run` of a bundle, sampling host memory and the sandbox's cgroups meanwhile. */
async function observe(b: string, id: string): Promise<Observed> {
  const root = path.join(dir, 'state');
  const base = memAvailable();
  let maxDrop = 0;
  let cgroups: string[] = [];
  let hostLimit = '';
  const child = spawn(process.execPath, [MOAT, '--root', root, 'run', '--bundle', b, id], {
    stdio: ['ignore', 'pipe', 'ignore'],
    cwd: REPO,
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => (out += s));
  const timer = setInterval(() => {
    maxDrop = Math.max(maxDrop, base - memAvailable());
    if (cgroups.length > 0) return;
    try {
      const rec = JSON.parse(
        fs.readFileSync(path.join(root, id, 'state.json'), 'utf8'),
      ) as ContainerRecord;
      cgroups = rec.sandbox.cgroups?.dirs ?? [];
      for (const d of cgroups) {
        for (const f of ['memory.limit_in_bytes', 'memory.max']) {
          if (fs.existsSync(path.join(d, f)))
            hostLimit = fs.readFileSync(path.join(d, f), 'utf8').trim();
        }
      }
    } catch {
      // Not written yet.
    }
  }, 20);
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  clearInterval(timer);
  return { code, out, maxDrop, cgroups, hostLimit };
}

describe('resource limits', () => {
  it('a 512 MiB memory limit stops an 8 GiB balloon: its process is OOM-killed', async (t) => {
    const limit = 512 * MiB;
    const b = bundle('mem', 'balloon 8192; echo "balloon status $?"; grep MemTotal /proc/meminfo', {
      memory: { limit },
    });
    const r = await observe(b, 'mem');
    t.diagnostic(`host available memory dropped by at most ${Math.round(r.maxDrop / MiB)} MiB`);
    assert.equal(r.code, 0, r.out);
    const lines = r.out.trim().split('\n');
    assert.match(r.out, /^touched 64 MiB$/m);
    assert.doesNotMatch(r.out, /balloon done/);
    assert.equal(lines.at(-2), 'balloon status 137', r.out);
    assert.match(lines.at(-1) ?? '', new RegExp(`^MemTotal:\\s+${limit / 1024} kB$`));
    const touched = Math.max(...[...r.out.matchAll(/touched (\d+) MiB/g)].map((m) => Number(m[1])));
    assert.ok(touched <= 512, `touched ${touched} MiB under a 512 MiB limit`);
    // The limit, plus moat's own processes, plus what else the machine did meanwhile.
    const bound = limit + SENTRY_OVERHEAD + GOFER_OVERHEAD + 256 * MiB;
    assert.ok(r.maxDrop < bound, `host memory dropped by ${Math.round(r.maxDrop / MiB)} MiB`);
    if (r.cgroups.length > 0 && r.hostLimit !== '') {
      assert.equal(r.hostLimit, String(hostMemoryLimit(limit, 1)));
    }
    for (const d of r.cgroups) assert.equal(fs.existsSync(d), false, `cgroup ${d} left`);
  });

  it('a pids limit of 100 stops a fork bomb at 100 tasks', async () => {
    const b = bundle('pids', 'forkbomb 1000; echo "forkbomb status $?"', { pids: { limit: 100 } });
    const r = await observe(b, 'pids');
    assert.equal(r.code, 0, r.out);
    // sh and the bomb are two of the 100.
    assert.equal(
      r.out,
      'fork failed after 98 children: Resource temporarily unavailable\nforkbomb status 0\n',
    );
    assert.ok(r.cgroups.length > 0, 'the sandbox had host cgroups');
    for (const d of r.cgroups) assert.equal(fs.existsSync(d), false, `cgroup ${d} left`);
  });

  it('a malformed limit is refused with the field named, and nothing is left', () => {
    const b = bundle('bad', 'true', { memory: { limit: 'lots' } });
    const root = path.join(dir, 'state');
    const r = spawnMoat(root, ['run', '--bundle', b, 'bad']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /config\.json: linux\.resources\.memory\.limit: must be an integer/);
    assert.equal(fs.existsSync(path.join(root, 'bad')), false);
  });
});

function spawnMoat(root: string, args: string[]): { status: number | null; stderr: string } {
  try {
    execFileSync(process.execPath, [MOAT, '--root', root, ...args], { cwd: REPO, stdio: 'pipe' });
    return { status: 0, stderr: '' };
  } catch (e) {
    const err = e as { status: number | null; stderr: Buffer };
    return { status: err.status, stderr: err.stderr.toString() };
  }
}

describe(
  'limits a container meets as under runc',
  { skip: runtimeUnavailable('runc') ?? false },
  () => {
    function both(script: string, mounts: Array<Record<string, unknown>> = []): string {
      const b = makeBusyboxBundle(path.join(dir, `runc-${Math.random().toString(36).slice(2)}`), {
        args: ['sh', '-c', script],
        mounts,
      });
      const runc = runRuncBundle(b, { timeoutMs: 60_000 });
      const moat = runMoatBundle(b, { timeoutMs: 60_000 });
      assert.equal(moat.stdout, runc.stdout, `moat:\n${moat.stderr}\nrunc:\n${runc.stderr}`);
      assert.equal(moat.status, runc.status, describeResult(moat));
      return moat.stdout;
    }
    const tmpfs = (opts: string[]): Array<Record<string, unknown>> => [
      {
        destination: '/tmp',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'mode=1777', ...opts],
      },
    ];

    it('tmpfs size= and nr_inodes=: ENOSPC where Linux says, df agrees', () => {
      const out = both(
        'head -c 2000000 /dev/zero > /tmp/f 2>/dev/null; echo "head $?"; wc -c < /tmp/f; ' +
          'df /tmp | tail -1 | tr -s " " | cut -d" " -f2-4; rm /tmp/f; ' +
          'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do touch /tmp/x$i 2>/dev/null || echo "touch $i failed"; done; ' +
          'ls /tmp | wc -l; rm /tmp/x1; touch /tmp/y && echo again',
        tmpfs(['size=1m', 'nr_inodes=10']),
      );
      assert.match(out, /^head 1\n1048576\n/);
      assert.match(out, /touch 10 failed/);
    });

    it('tmpfs: an unlinked file keeps its pages until it is closed', () => {
      const out = both(
        'exec 3>/tmp/z; rm /tmp/z; head -c 1048576 /dev/zero >&3; echo "unlinked $?"; ' +
          'head -c 100000 /dev/zero > /tmp/w 2>/dev/null; echo "while open $?"; exec 3>&-; ' +
          'head -c 100000 /dev/zero > /tmp/w2; echo "after close $?"',
        tmpfs(['size=1m']),
      );
      assert.equal(out, 'unlinked 0\nwhile open 1\nafter close 0\n');
    });

    it('RLIMIT_NOFILE: the hard limit cannot be raised without CAP_SYS_RESOURCE', () => {
      const out = both(
        'ulimit -n 2048 2>/dev/null; echo "raise $?"; ulimit -n; ulimit -n 512; echo "lower $?"; ' +
          'ulimit -n 1024 2>/dev/null; echo "raise back $?"',
      );
      assert.equal(out, 'raise 1\n1024\nlower 0\nraise back 1\n');
    });
  },
);
