// Unix sockets bound by path on a bind-mounted host directory (a Gofer's file system under
// moat): the same program prints the same under moat and runc, and leaves the host directory
// the same (the nodes removed). A socket a host process listens on in that directory is not
// reachable from the sandbox (connect answers ECONNREFUSED; runc connects): the Sentry never
// connects the application to a host socket — a deliberate difference, as gVisor's default.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import { REPO_ROOT, runMoatBundle, runRuncBundle } from '../testlib/runners.js';

let dir = '';
let prog = '';

before(() => {
  dir = tempDir('unixbind');
  prog = path.join(dir, 'unix_bind');
  execFileSync('gcc', [
    '-O1',
    '-static',
    '-o',
    prog,
    path.join(REPO_ROOT, 'test/fixtures/unix_bind.c'),
  ]);
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function bundleFor(runner: string, args: string[]): { bundle: string; data: string } {
  const base = fs.mkdtempSync(path.join(dir, `${runner}-`));
  const data = path.join(base, 'data');
  fs.mkdirSync(data);
  const bundle = makeBusyboxBundle(path.join(base, 'bundle'), {
    args,
    files: [[prog, 'unix_bind']],
    mounts: [{ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] }],
  });
  fs.mkdirSync(path.join(bundle, 'rootfs/data'));
  return { bundle, data };
}

test('Unix sockets bound on a bind mount: moat prints what runc prints', () => {
  const outs: Record<string, string> = {};
  for (const runner of ['runc', 'moat'] as const) {
    const { bundle, data } = bundleFor(runner, ['/unix_bind']);
    const r = runner === 'moat' ? runMoatBundle(bundle) : runRuncBundle(bundle);
    assert.equal(r.status, 0, `${runner}: ${r.stdout}${r.stderr ?? ''}`);
    outs[runner] = r.stdout;
    assert.deepEqual(fs.readdirSync(data), [], `${runner} left its nodes`);
  }
  assert.equal(outs['moat'], outs['runc']);
  assert.match(outs['moat'] ?? '', /stat_stream: 0 sock=1\n/);
  assert.match(outs['moat'] ?? '', /accept_read: 13 over the node\n/);
  assert.match(outs['moat'] ?? '', /dgram_recv: 8 datagram\n/);
  assert.match(outs['moat'] ?? '', /connect_after_close: -1 ECONNREFUSED\n/);
});

test('a host socket in a bind-mounted directory is not reachable from the sandbox', async () => {
  const { bundle, data } = bundleFor('host', ['/unix_bind', 'host']);
  let accepted = 0;
  const server = net.createServer((c) => {
    accepted++;
    c.destroy();
  });
  const sock = path.join(data, 'host.sock');
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    const r = runMoatBundle(bundle);
    assert.equal(r.status, 0, r.stdout);
    assert.equal(r.stdout, 'host_connect: -1 ECONNREFUSED\n');
    assert.equal(accepted, 0);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
