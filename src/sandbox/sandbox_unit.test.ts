// Unit tests of the launcher's pure parts: /proc/<pid>/stat parsing and process identity,
// the BootSpec built from a spec, and the control socket path choice.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { defaultSpec } from '../oci/spec_default.js';
import { StateStore } from '../oci/state_store.js';
import { SENTRY_GOFER_FD, SENTRY_READY_FD, bootFromSpec } from './boot_build.js';
import { controlSocketPath } from './container.js';
import { isAlive, parseStat, readStat, refOf, signalRef, waitGone } from './proc_stat.js';

describe('proc stat', () => {
  it('parses fields after a comm that contains spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    fields[19] = '123456';
    const st = parseStat(`42 (a) (b c) ${fields.join(' ')}\n`);
    assert.deepEqual(st, { state: 'S', ppid: 4, startTime: '123456' });
    assert.equal(parseStat('garbage'), undefined);
  });

  it('identifies this process and rejects a wrong start time', () => {
    const me = refOf(process.pid);
    assert.ok(me !== undefined);
    assert.equal(isAlive(me), true);
    assert.equal(isAlive({ pid: process.pid, startTime: '1' }), false);
    assert.equal(signalRef({ pid: process.pid, startTime: '1' }, 0), false);
    assert.equal(readStat(-1), undefined);
  });

  it('sees a killed child as gone', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid;
    assert.ok(pid !== undefined);
    const ref = refOf(pid);
    assert.ok(ref !== undefined);
    assert.equal(isAlive(ref), true);
    assert.equal(signalRef(ref, 'SIGKILL'), true);
    assert.equal(await waitGone([ref], 5000), true);
  });
});

describe('bootFromSpec', () => {
  it('carries the process, user, limits and fds of boot_spec.ts', () => {
    const spec = defaultSpec();
    spec.process.user.additionalGids = [5, 6];
    spec.process.user.umask = 0o22;
    const boot = bootFromSpec(spec, { id: 'c', controlSocket: '/s', debug: true });
    assert.deepEqual(boot.args, ['sh']);
    assert.equal(boot.cwd, '/');
    assert.equal(boot.hostname, 'moat');
    assert.deepEqual(boot.additionalGids, [5, 6]);
    assert.equal(boot.umask, 0o22);
    assert.equal(boot.goferFd, SENTRY_GOFER_FD);
    assert.equal(boot.readyFd, SENTRY_READY_FD);
    assert.equal(boot.goferFd, 3);
    assert.equal(boot.readyFd, 4);
    assert.equal(boot.readonlyRoot, true);
    assert.deepEqual(boot.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    assert.equal(boot.debug, true);
    assert.equal('logPath' in boot, false);
  });
});

describe('controlSocketPath', () => {
  it('uses the state dir, or a short hashed path when that would not fit sun_path', () => {
    const store = new StateStore('/run/moat');
    assert.equal(controlSocketPath(store, 'web'), '/run/moat/web/control.sock');
    const long = 'x'.repeat(200);
    const p = controlSocketPath(store, long);
    assert.equal(path.dirname(p), '/run/moat/.s');
    assert.ok(Buffer.byteLength(p) <= 107);
    const tooLong = new StateStore(`/${'r'.repeat(100)}`);
    assert.throws(() => controlSocketPath(tooLong, 'x'), /too long for a control socket path/);
  });
});
