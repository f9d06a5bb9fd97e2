// Integration suite: the same busybox bundle run by `moat run` and by `runc run` must print
// the same stdout and end with the same exit status; and `moat do` of a host program must
// print what the program prints on the host. runc is the reference: where it cannot run,
// the comparisons are skipped with the reason, and moat is still tried on its own.
//
// It must never compare anything looser than it has to: outputs are compared byte for
// byte, except `moat do -- ls -l /`, where the lines of the file systems `moat do` mounts
// itself are compared on what they share (see normaliseRootListing). It never fails on
// how long a run took.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import {
  describeResult,
  moatUnavailable,
  runMoatBundle,
  runMoatDo,
  runNative,
  runRuncBundle,
  runtimeUnavailable,
  setBundleArgs,
  type RunResult,
} from '../testlib/runners.js';

interface BundleCase {
  name: string;
  args: string[];
  status: number;
}

const CASES: BundleCase[] = [
  { name: 'echo hello', args: ['echo', 'hello'], status: 0 },
  { name: 'cat /etc/passwd', args: ['cat', '/etc/passwd'], status: 0 },
  // Same bundle, same host files: the symlinks' dates, sizes and owners are the same
  // inodes for both runtimes, so nothing is normalised.
  { name: 'ls -l /bin', args: ['ls', '-l', '/bin'], status: 0 },
  {
    name: "sh -c 'echo a; echo b; exit 3'",
    args: ['sh', '-c', 'echo a; echo b; exit 3'],
    status: 3,
  },
  // The shell is pid 1 of the container's pid namespace: Linux does not deliver to it a
  // signal from inside the namespace whose action is the default (SIGNAL_UNKILLABLE), so
  // it survives its own SIGTERM under runc. (runsc 20221219 gets this wrong: status 143.)
  {
    name: "pid 1 survives its own SIGTERM: sh -c 'kill -TERM $$; echo survived'",
    args: ['sh', '-c', 'kill -TERM $$; echo survived'],
    status: 0,
  },
  // Processes: applets forked and exec'd by the shell, pipelines, subshells, command
  // substitution, background jobs, a child's exit status and death by signal.
  {
    name: 'a shell pipeline and its children',
    args: [
      'sh',
      '-c',
      [
        'ls /bin | head -3',
        'echo abc | tr a-c x-z | cat',
        'x=$(echo sub; echo stitution); echo "$x"',
        '(exit 5); echo "subshell $?"',
        'sh -c "exit 6"; echo "child $?"',
        'sh -c \'kill -KILL $$\'; echo "killed $?"',
        'sleep 0.2 & echo started; wait $!; echo "waited $?"',
        'seq 1 2000 | wc -l',
        'cat /etc/passwd | sort | head -2',
        'exit 4',
      ].join('; '),
    ],
    status: 4,
  },
  // A child that computes without system calls is preempted: its parent's sleep ends, and
  // the parent kills it.
  {
    name: 'a busy background loop does not starve its parent',
    args: [
      'sh',
      '-c',
      'while :; do :; done & p=$!; sleep 0.3; kill $p; wait $p; echo "busy loop ended $?"',
    ],
    status: 0,
  },
];

const work = tempDir('busybox-vs-runc');
const bundle = `${work}/bundle`;

before(() => {
  fs.mkdirSync(bundle);
  makeBusyboxBundle(bundle, { args: ['true'] });
});

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function assertSameRun(moat: RunResult, reference: RunResult, what: string): void {
  assert.equal(moat.error, null, `${what}: ${describeResult(moat)}`);
  assert.equal(moat.stdout, reference.stdout, `${what}: stdout differs (${describeResult(moat)})`);
  assert.equal(moat.signal, reference.signal, `${what}: ${describeResult(moat)}`);
  assert.equal(
    moat.status,
    reference.status,
    `${what}: exit status differs (${describeResult(moat)})`,
  );
}

describe('busybox bundle: moat run vs runc run', () => {
  for (const c of CASES) {
    test(c.name, (t) => {
      setBundleArgs(bundle, c.args);
      const runcWhy = runtimeUnavailable('runc');
      let reference: RunResult | null = null;
      if (runcWhy === null) {
        reference = runRuncBundle(bundle);
        assert.equal(reference.status, c.status, `runc itself: ${describeResult(reference)}`);
      }
      const moatWhy = moatUnavailable();
      if (moatWhy !== null) {
        t.skip(`moat cannot run: ${moatWhy}`);
        return;
      }
      const moat = runMoatBundle(bundle);
      if (reference === null) {
        t.diagnostic(`runc unavailable (${runcWhy ?? ''}): checking moat's exit status only`);
        assert.equal(moat.status, c.status, describeResult(moat));
        return;
      }
      assertSameRun(moat, reference, c.name);
    });
  }
});

/** The environment `moat do` passes (cmd_do.ts): so that the host run formats alike. */
function doEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TERM', 'LANG']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/**
 * `moat do` mounts its own proc on /proc and tmpfs on /dev and /tmp (cmd_do.ts) over the
 * host's root. Those three entries of `ls -l /` therefore show fresh file systems, not the
 * host's: their link count, size and date differ by design, so they are compared on type
 * and permissions, owner, group and name only. The "total" line sums every entry's blocks
 * (the host's /tmp directory has blocks, a fresh tmpfs none), and ls pads each column to
 * its widest value, which the mounted entries change: so "total" is dropped and runs of
 * spaces are squeezed. Every other line is compared field for field.
 */
function normaliseRootListing(out: string): string {
  const MOUNTED = new Set(['proc', 'dev', 'tmp']);
  const hidden = hostSubmounts();
  return out
    .split('\n')
    .filter((l) => !l.startsWith('total '))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      const name = f[8];
      if (f.length === 9 && name !== undefined && MOUNTED.has(name)) {
        return [f[0], f[2], f[3], name, '(moat-mounted)'].join(' ');
      }
      if (f.length === 9 && name !== undefined && hidden.has(name)) {
        return [name, '(a host mount moat do does not expose)'].join(' ');
      }
      return f.join(' ');
    })
    .join('\n');
}

/**
 * The host's mount points directly under "/" (sysfs on /sys, say). `moat do` serves the root
 * file system alone, never the host's other mounts, so there the directory beneath shows.
 */
function hostSubmounts(): Set<string> {
  const out = new Set<string>();
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountPoint = line.split(' ')[4];
    const m = mountPoint === undefined ? null : /^\/([^/]+)$/.exec(mountPoint);
    if (m?.[1] !== undefined) out.add(m[1]);
  }
  return out;
}

describe('moat do vs the host', () => {
  test('moat do -- echo hello', (t) => {
    const host = runNative(['echo', 'hello'], { env: doEnv() });
    assert.equal(host.stdout, 'hello\n');
    const why = moatUnavailable();
    if (why !== null) return t.skip(`moat cannot run: ${why}`);
    assertSameRun(runMoatDo(['echo', 'hello']), host, 'moat do -- echo hello');
  });

  test('moat do -- ls -l /', (t) => {
    const why = moatUnavailable();
    if (why !== null) return t.skip(`moat cannot run: ${why}`);
    const moat = runMoatDo(['ls', '-l', '/']);
    const host = runNative(['ls', '-l', '/'], { env: doEnv() });
    assert.equal(host.status, 0, describeResult(host));
    assert.equal(moat.status, 0, describeResult(moat));
    assert.equal(
      normaliseRootListing(moat.stdout),
      normaliseRootListing(host.stdout),
      'ls -l / differs beyond the moat-mounted /proc, /dev, /tmp',
    );
  });
});
