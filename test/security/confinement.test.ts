// Every moat process of a running sandbox, read from the host as an attacker who got code
// execution in it would find it: each *thread* of the Sentry, of each stub and of each Gofer
// (capabilities are per thread: reading the thread-group leader alone proves nothing). The
// Sentry and its stubs hold no capability at all; a Gofer holds only the four file
// capabilities, inside a user namespace of its own; all run with no_new_privs and a seccomp
// filter, in namespaces of their own, with roots that hold no host path but the read-only
// Node runtime. The waiters (their parents, waiter_image.ts) hold nothing: no capability, no
// fd past stdio, a seccomp filter that lets them do nothing but wait.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerRecord } from '../../src/oci/state_types.js';
import { makeBusyboxBundle, tempDir } from '../../testlib/bundle.js';
import { REPO, cleanupRoot, moat, waitNoProcesses, waitStatus } from '../../testlib/cli_moat.js';

const FILE_CAPS = '000000000000001b'; // chown, dac_override, fowner, fsetid
const NONE = '0000000000000000';
const HOST_USERNS = fs.readlinkSync('/proc/self/ns/user');

let dir = '';
let root = '';
let rec: ContainerRecord;

function field(status: string, name: string): string {
  return new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
}

function threads(pid: number): Array<{ tid: string; status: string }> {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => ({
    tid,
    status: fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'),
  }));
}

function children(pid: number): number[] {
  return fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/))
    .filter((s) => s !== '')
    .map(Number);
}

function ns(pid: number, kind: string): string {
  return fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
}

/** Asserts the capability sets and the filters of every thread of `pid`. */
function assertThreads(pid: number, what: string, caps: { eff: string; bnd: string }): void {
  const ts = threads(pid);
  assert.ok(ts.length >= 1);
  for (const { tid, status } of ts) {
    const at = `${what} ${pid} thread ${tid}`;
    assert.equal(field(status, 'CapEff'), caps.eff, `${at}: CapEff`);
    assert.equal(field(status, 'CapPrm'), caps.eff, `${at}: CapPrm`);
    assert.equal(field(status, 'CapBnd'), caps.bnd, `${at}: CapBnd`);
    assert.equal(field(status, 'CapInh'), NONE, `${at}: CapInh`);
    assert.equal(field(status, 'CapAmb'), NONE, `${at}: CapAmb`);
    assert.equal(field(status, 'NoNewPrivs'), '1', `${at}: NoNewPrivs`);
    assert.equal(field(status, 'Seccomp'), '2', `${at}: Seccomp`);
  }
}

/** The mounts a process sees: [mount point, options, fs type, source]. */
function mounts(pid: number): Array<[string, string, string, string]> {
  return fs
    .readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [left = '', right = ''] = l.split(' - ');
      const f = left.split(' ');
      const r = right.split(' ');
      return [f[4] ?? '', f[5] ?? '', r[0] ?? '', r[1] ?? ''];
    });
}

/** What a moat process may see mounted, besides its own: the read-only Node runtime. */
function assertRuntimeRoot(
  pid: number,
  what: string,
  own: (mp: string) => boolean,
  ownTop: string[] = [],
): void {
  for (const [mp, opts, type, src] of mounts(pid)) {
    if (own(mp)) continue;
    if (mp === '/proc') {
      assert.equal(type, 'proc', `${what}: /proc`);
      continue;
    }
    if (['/dev/null', '/dev/zero', '/dev/urandom'].includes(mp)) continue;
    assert.match(opts, /^ro,/, `${what}: ${mp} (${type} ${src}) is read-only`);
  }
  const top = fs.readdirSync(`/proc/${pid}/root`);
  const hostOnly = ['home', 'root', 'var', 'run', 'tmp', 'boot', 'srv', 'opt', 'mnt'];
  // moat's repository is bound at its own path (under /tmp in a CI clone, say).
  const repoTop = REPO.split('/')[1] ?? '';
  for (const host of hostOnly.filter((h) => !ownTop.includes(h) && h !== repoTop)) {
    assert.ok(!top.includes(host), `${what} sees no host /${host}: ${top.join(' ')}`);
  }
}

before(async () => {
  dir = tempDir('security-confine');
  root = path.join(dir, 'state');
  const shared = path.join(dir, 'shared');
  fs.mkdirSync(shared);
  fs.writeFileSync(path.join(dir, 'note'), 'note\n');
  const bundle = makeBusyboxBundle(path.join(dir, 'bundle'), {
    args: ['sh', '-c', 'sleep 60 & sleep 60'],
    mounts: [
      { destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] },
      {
        destination: '/note',
        type: 'bind',
        source: path.join(dir, 'note'),
        options: ['bind', 'ro'],
      },
    ],
  });
  const r = moat(root, ['run', '--detach', '--bundle', bundle, 'sec']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(await waitStatus(root, 'sec', ['running']), 'running');
  rec = JSON.parse(
    fs.readFileSync(path.join(root, 'sec', 'state.json'), 'utf8'),
  ) as ContainerRecord;
});

after(async () => {
  await cleanupRoot(root);
  await waitNoProcesses(dir, 5000);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a running sandbox, every thread of every moat process', () => {
  it('the Sentry: no capability on any thread, its own namespaces, a read-only root', () => {
    const sentry = rec.sandbox.sentry?.pid ?? -1;
    assert.ok(sentry > 0, 'the record names the Sentry');
    assertThreads(sentry, 'sentry', { eff: NONE, bnd: NONE });
    for (const kind of ['user', 'mnt', 'pid', 'net', 'ipc', 'uts']) {
      assert.notEqual(ns(sentry, kind), fs.readlinkSync(`/proc/self/ns/${kind}`), kind);
    }
    assertRuntimeRoot(sentry, 'sentry', () => false);
    assert.ok(threads(sentry).length > 1, 'Node’s own threads are checked too');
  });

  it('the stubs: no capability, traced by the Sentry, filtered, holding only the memory file', () => {
    const sentry = rec.sandbox.sentry?.pid ?? -1;
    // The stub master is the Sentry's child; the application's stubs are the master's.
    const stubs: number[] = [];
    for (let todo = children(sentry); todo.length > 0;) {
      const s = todo.shift() ?? -1;
      stubs.push(s);
      todo.push(...children(s));
    }
    assert.ok(
      stubs.length >= 3,
      `the stub master and two application processes: ${stubs.join(' ')}`,
    );
    for (const s of stubs) {
      assertThreads(s, 'stub', { eff: NONE, bnd: NONE });
      for (const { tid, status } of threads(s)) {
        assert.equal(field(status, 'TracerPid'), String(sentry), `stub ${s} thread ${tid}`);
      }
      assert.equal(fs.readdirSync(`/proc/${s}/fd`).length, 1, `stub ${s} holds one fd`);
      assert.match(
        fs.readlinkSync(`/proc/${s}/fd/${fs.readdirSync(`/proc/${s}/fd`)[0] ?? ''}`),
        /memfd:moat-memory/,
      );
    }
  });

  it('each Gofer: only the file capabilities, in its own user namespace, on every thread', () => {
    const gofers = [rec.sandbox.gofer, ...(rec.sandbox.mountGofers ?? [])];
    assert.equal(gofers.length, 3, 'the root and two bind mounts');
    for (const g of gofers) {
      const [node] = children(g.pid);
      assert.ok(node !== undefined, `gofer ${g.pid} runs Node under unshare`);
      assertThreads(node, 'gofer', { eff: FILE_CAPS, bnd: FILE_CAPS });
      assert.notEqual(ns(node, 'user'), HOST_USERNS, 'its capabilities mean nothing on the host');
      assert.equal(
        fs.readFileSync(`/proc/${node}/uid_map`, 'utf8').trim().split(/\s+/).join(' '),
        '0 0 4294967295',
        'every id maps to itself: files keep their owners',
      );
      for (const kind of ['mnt', 'pid', 'net', 'ipc']) {
        assert.notEqual(ns(node, kind), fs.readlinkSync(`/proc/self/ns/${kind}`), kind);
      }
      // Its /root is the served tree, not the host's.
      const own = (mp: string): boolean => mp === '/root' || mp.startsWith('/root/');
      assertRuntimeRoot(node, 'gofer', own, ['root']);
      // Its fds: the 9P socket, Node's own, /dev/null, its own procfs, and the served tree;
      // stderr (fd 2) is where the caller asked its messages to go.
      for (const fd of fs.readdirSync(`/proc/${node}/fd`).filter((f) => f !== '2')) {
        let target = '';
        try {
          target = fs.readlinkSync(`/proc/${node}/fd/${fd}`);
        } catch {
          continue;
        }
        assert.match(
          target,
          /^(socket:|pipe:|anon_inode:|\/dev\/null$|\/proc\/\d+\/fd$|\/root(\/|$))/,
          `gofer ${node} fd ${fd} → ${target}`,
        );
      }
    }
  });

  it('the waiters hold no capability and no fd, and may only wait', () => {
    const parents = [rec.sandbox.sandbox, rec.sandbox.gofer, ...(rec.sandbox.mountGofers ?? [])];
    for (const p of parents) {
      // The Gofers' recorded pid is stage 1, which became the waiter by exec.
      const at = `waiter ${p.pid}`;
      assert.equal(fs.readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim(), 'moat-waiter', at);
      assert.notEqual(ns(p.pid, 'user'), HOST_USERNS, `${at} left the host's namespace`);
      assert.equal(ns(p.pid, 'user'), ns(children(p.pid)[0] ?? -1, 'user'), 'its child’s');
      assert.equal(threads(p.pid).length, 1);
      assertThreads(p.pid, 'waiter', { eff: NONE, bnd: NONE });
      assert.deepEqual(
        fs
          .readdirSync(`/proc/${p.pid}/fd`)
          .map(Number)
          .sort((x, y) => x - y),
        [0, 1, 2],
        `${at} holds stdio only`,
      );
      assert.equal(fs.readFileSync(`/proc/${p.pid}/wchan`, 'utf8'), 'do_wait', at);
      assert.equal(children(p.pid).length, 1);
    }
  });
});
