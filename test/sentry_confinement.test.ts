// The Sentry as an attacker would look at it from the host: once a container is created, the
// Sentry process sees an empty root, holds no capability, runs with no_new_privs and a seccomp
// filter, and its ptrace stubs hold nothing but the memory file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import { cleanupRoot, moat } from '../testlib/cli_moat.js';

function statusField(pid: number, name: string): string {
  const m = new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(
    fs.readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return m?.[1]?.trim() ?? '';
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    const c = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    if (c) out.push(...c.split(/\s+/).map(Number));
  }
  return out;
}

test('a created sandbox: the Sentry sees an empty root and holds no capability', async () => {
  const dir = tempDir('confine');
  const root = path.join(dir, 'state');
  try {
    makeBusyboxBundle(path.join(dir, 'bundle'), { args: ['true'] });
    const c = moat(root, ['create', '--bundle', path.join(dir, 'bundle'), 'conf1']);
    assert.equal(c.status, 0, c.stderr);
    const st = moat(root, ['state', 'conf1']);
    assert.equal(st.status, 0, st.stderr);
    // The state's pid is the unshare(1) process; the Sentry is its child.
    const outer = (JSON.parse(st.stdout) as { pid: number }).pid;
    assert.ok(outer > 0);
    const pid = children(outer)[0] ?? -1;
    assert.ok(pid > 0, 'the Sentry runs under unshare');

    // It lives in a user namespace of its own: its capabilities mean nothing on the host.
    assert.notEqual(fs.readlinkSync(`/proc/${pid}/ns/user`), fs.readlinkSync('/proc/self/ns/user'));
    // The root it sees is an empty directory.
    assert.deepEqual(fs.readdirSync(`/proc/${pid}/root`), []);
    // No capability in any set, on every thread; no_new_privs; a seccomp filter.
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      const s = fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      assert.match(s, /^Seccomp:\s+2$/m, `thread ${t}`);
      assert.match(s, /^NoNewPrivs:\s+1$/m, `thread ${t}`);
    }
    for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
      assert.equal(statusField(pid, f), '0000000000000000', f);
    }
    // Its children are the ptrace stubs: traced by it, filtered, holding one fd.
    const stubs = children(pid);
    assert.ok(stubs.length >= 1, 'the stub master and the init stub exist');
    for (const s of stubs) {
      assert.equal(statusField(s, 'TracerPid'), String(pid));
      assert.equal(statusField(s, 'Seccomp'), '2');
      assert.equal(fs.readdirSync(`/proc/${s}/fd`).length, 1, `stub ${s} fds`);
    }
    // The Gofer: only the file capabilities, no_new_privs, its own seccomp filter, and a root
    // that is the container's.
    const rec = JSON.parse(fs.readFileSync(path.join(root, 'conf1', 'state.json'), 'utf8')) as {
      sandbox: { gofer: { pid: number } };
    };
    const gofer = rec.sandbox.gofer.pid;
    assert.equal(statusField(gofer, 'CapEff'), '000000000000001f');
    assert.equal(statusField(gofer, 'CapBnd'), '000000000000001f');
    assert.equal(statusField(gofer, 'Seccomp'), '2');
    assert.equal(statusField(gofer, 'NoNewPrivs'), '1');
    assert.ok(fs.readdirSync(`/proc/${gofer}/root`).includes('bin'));
    assert.ok(!fs.readdirSync(`/proc/${gofer}/root`).includes('work'));
    const d = moat(root, ['delete', '--force', 'conf1']);
    assert.equal(d.status, 0, d.stderr);
    const deadline = Date.now() + 5000;
    while (fs.existsSync(`/proc/${pid}`) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(fs.existsSync(`/proc/${pid}`), false, 'the Sentry is gone after delete');
  } finally {
    await cleanupRoot(root);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
