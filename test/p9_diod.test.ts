// Interop with Debian's diod, a real 9P2000.L peer: our P9Client against diod serving a temp
// directory (diod -r/-w on one end of a socketpair), and diod's clients diodcat and diodls
// against our Gofer (over loopback TCP, their only transport). Skipped, with the reason
// printed, where diod is not installed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Errno } from '../src/abi/linux/errno.js';
import {
  DIOD,
  makeTree,
  run,
  serveGoferOnTcp,
  startDiod,
  startGofer,
  type Peer,
  type TcpGofer,
  type Tree,
} from '../testlib/p9_gofer.js';

const haveDiod = fs.existsSync(DIOD);
const skip = haveDiod ? false : `${DIOD} is not installed (apt-get install diod)`;
if (!haveDiod) process.stdout.write(`# skipping diod interop: ${String(skip)}\n`);

void describe('P9Client against diod', { skip }, () => {
  let tree: Tree;
  let peer: Peer;
  before(() => {
    tree = makeTree();
    peer = startDiod(tree.root);
  });
  after(async () => {
    await peer.stop();
    tree.cleanup();
  });

  void test('walk, getattr, lopen, read, readdir, readlink, statfs', () => {
    const c = peer.client;
    const w = c.walk(c.rootFid, ['hello.txt']);
    assert.ok(typeof w !== 'number');
    const a = c.getattr(w.fid);
    assert.ok(typeof a !== 'number');
    assert.equal(a.size, 13n);
    const o = c.lopen(w.fid, 0);
    assert.ok(typeof o !== 'number');
    assert.equal(o.fd, undefined, 'diod donates no fds');
    const data = c.read(w.fid, 0n, 100);
    assert.ok(data instanceof Uint8Array);
    assert.equal(Buffer.from(data).toString(), 'hello, gofer\n');
    assert.equal(c.clunk(w.fid), 0);
    assert.equal(c.walk(c.rootFid, ['missing']), -Errno.ENOENT);
    const d = c.walk(c.rootFid, ['dir']);
    assert.ok(typeof d !== 'number');
    assert.ok(typeof c.lopen(d.fid, 0) !== 'number');
    const ents = c.readdir(d.fid, 0n, 4096);
    assert.ok(typeof ents !== 'number');
    assert.ok(ents.some((e) => e.name === 'inner.txt'));
    c.clunk(d.fid);
    const l = c.walk(c.rootFid, ['abs_link']);
    assert.ok(typeof l !== 'number');
    assert.equal(c.readlink(l.fid), '/etc/passwd');
    c.clunk(l.fid);
    const s = c.statfs(c.rootFid);
    assert.ok(typeof s !== 'number' && s.bsize > 0);
  });

  void test('reads and writes of more than msize are cut to what diod accepts', () => {
    const c = peer.client;
    const big = Buffer.alloc(200000, 0x61);
    fs.writeFileSync(`${tree.root}/big.bin`, big);
    const w = c.walk(c.rootFid, ['big.bin']);
    assert.ok(typeof w !== 'number');
    assert.ok(typeof c.lopen(w.fid, 2) !== 'number');
    const data = c.read(w.fid, 0n, 1 << 20);
    assert.ok(data instanceof Uint8Array);
    assert.equal(data.length, c.maxRead);
    assert.equal(c.write(w.fid, 0n, Buffer.alloc(1 << 20, 0x62)), c.maxWrite);
    c.clunk(w.fid);
    fs.rmSync(`${tree.root}/big.bin`);
  });
});

void describe('extended attributes: the same exchange against diod and our Gofer', { skip }, () => {
  for (const server of ['diod', 'gofer'] as const) {
    void test(`xattrcreate + write + clunk, xattrwalk + read, remove (${server})`, async () => {
      const tree = makeTree();
      const peer = server === 'diod' ? startDiod(tree.root) : startGofer(tree.root);
      const c = peer.client;
      try {
        const w = c.walk(c.rootFid, ['hello.txt']);
        assert.ok(typeof w !== 'number');
        const absent = c.xattrwalk(w.fid, 'user.moat');
        assert.equal(absent, -Errno.ENODATA);
        // Set, as Linux's v9fs does: on a clone, Twrite the bytes, Tclunk applies.
        const clone = c.walk(w.fid, []);
        assert.ok(typeof clone !== 'number');
        assert.equal(c.xattrcreate(clone.fid, 'user.moat', 5n, 0), 0);
        assert.equal(c.write(clone.fid, 0n, Buffer.from('value')), 5);
        assert.equal(c.clunk(clone.fid), 0);
        const got = c.xattrwalk(w.fid, 'user.moat');
        assert.ok(typeof got !== 'number');
        assert.equal(got.size, 5n);
        const data = c.read(got.fid, 0n, 100);
        assert.ok(data instanceof Uint8Array);
        assert.equal(Buffer.from(data).toString(), 'value');
        c.clunk(got.fid);
        const list = c.xattrwalk(w.fid, '');
        assert.ok(typeof list !== 'number');
        const names = c.read(list.fid, 0n, 4096);
        assert.ok(names instanceof Uint8Array);
        assert.ok(Buffer.from(names).toString().split('\0').includes('user.moat'));
        c.clunk(list.fid);
        // Remove: size 0 with XATTR_REPLACE, what Linux sends for removexattr(2).
        const rm = c.walk(w.fid, []);
        assert.ok(typeof rm !== 'number');
        assert.equal(c.xattrcreate(rm.fid, 'user.moat', 0n, 2), 0);
        assert.equal(c.clunk(rm.fid), 0);
        assert.equal(c.xattrwalk(w.fid, 'user.moat'), -Errno.ENODATA);
        c.clunk(w.fid);
      } finally {
        await peer.stop();
        tree.cleanup();
      }
    });
  }
});

void describe('diodcat and diodls against our Gofer', { skip }, () => {
  let tree: Tree;
  let srv: TcpGofer;
  before(async () => {
    tree = makeTree();
    srv = await serveGoferOnTcp(tree.root);
  });
  after(async () => {
    await srv.close();
    tree.cleanup();
  });

  void test('diodcat reads files, and nothing outside the root', async () => {
    const server = `127.0.0.1:${srv.port}`;
    const r = await run('/usr/sbin/diodcat', [
      '-s',
      server,
      '-a',
      '/',
      'hello.txt',
      'dir/inner.txt',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'hello, gofer\ninner\n');
    const esc = await run('/usr/sbin/diodcat', ['-s', server, '-a', '/', '../outside/secret.txt']);
    assert.equal(esc.out.includes('secret'), false);
    const viaLink = await run('/usr/sbin/diodcat', ['-s', server, '-a', '/', 'to_secret']);
    assert.equal(viaLink.out.includes('secret'), false);
  });

  void test('diodls lists the root', async () => {
    const r = await run('/usr/sbin/diodls', ['-s', `127.0.0.1:${srv.port}`, '-a', '/', '/']);
    assert.equal(r.code, 0, r.err);
    const names = r.out.split('\n').filter((n) => n !== '');
    assert.deepEqual(names.sort(), fs.readdirSync(tree.root).sort());
  });
});
