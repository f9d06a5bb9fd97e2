// Set-user-ID and set-group-ID executables, as under runc: honoured on a plain mount, ignored
// on a nosuid mount and under no_new_privs, and with the capabilities Linux gives a process
// that becomes root that way (the bounding set of the container). A non-root container user
// runs them from read-only bind mounts.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import {
  REPO_ROOT,
  describeResult,
  runMoatBundle,
  runRuncBundle,
  runtimeUnavailable,
} from '../testlib/runners.js';

let dir = '';

before(() => {
  dir = tempDir('setid');
  const host = path.join(dir, 'host');
  fs.mkdirSync(host);
  const prog = path.join(dir, 'ids');
  execFileSync('gcc', ['-O1', '-static', '-o', prog, path.join(REPO_ROOT, 'test/fixtures/ids.c')]);
  for (const [name, uid, gid, mode] of [
    ['suid', 0, 0, 0o4755],
    ['sgid', 0, 5, 0o2755],
    ['sgid_noexec', 0, 5, 0o2745],
  ] as const) {
    fs.copyFileSync(prog, path.join(host, name));
    fs.chownSync(path.join(host, name), uid, gid);
    fs.chmodSync(path.join(host, name), mode);
  }
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function bundle(name: string, noNewPrivileges: boolean): string {
  const b = makeBusyboxBundle(path.join(dir, name), {
    args: [
      'sh',
      '-c',
      'for p in /suid/suid /suid/sgid /suid/sgid_noexec /nosuid/suid /nosuid/sgid; do ' +
        'printf "%s " $p; $p || echo failed; done',
    ],
    user: { uid: 1000, gid: 1000 },
    mounts: [
      {
        destination: '/suid',
        type: 'bind',
        source: path.join(dir, 'host'),
        options: ['rbind', 'ro'],
      },
      {
        destination: '/nosuid',
        type: 'bind',
        source: path.join(dir, 'host'),
        options: ['rbind', 'ro', 'nosuid'],
      },
    ],
  });
  const file = path.join(b, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { process: Record<string, unknown> };
  cfg.process['noNewPrivileges'] = noNewPrivileges;
  fs.writeFileSync(file, JSON.stringify(cfg));
  return b;
}

describe('set-id executables, moat vs runc', { skip: runtimeUnavailable('runc') ?? false }, () => {
  for (const nnp of [false, true]) {
    it(`noNewPrivileges ${String(nnp)}`, () => {
      const b = bundle(`b-${String(nnp)}`, nnp);
      const runc = runRuncBundle(b, { timeoutMs: 60_000 });
      const moat = runMoatBundle(b, { timeoutMs: 60_000 });
      assert.equal(runc.status, 0, describeResult(runc));
      assert.equal(moat.stdout, runc.stdout, moat.stderr);
      assert.equal(moat.status, 0, describeResult(moat));
      const suid = /^\/suid\/suid (.*)$/m.exec(moat.stdout)?.[1] ?? '';
      assert.match(suid, nnp ? /euid=1000/ : /euid=0 /);
      assert.match(moat.stdout, /^\/nosuid\/suid ruid=1000 euid=1000 /m);
    });
  }
});
