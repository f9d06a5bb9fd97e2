// Integration: our P9Client against our Gofer as a real child process (unshare --mount,
// pivot_root) serving a temp directory over a socketpair: walk, getattr, lopen + read through
// Tread and through the donated fd, readdir, readlink, statfs, and the escape attempts that must
// all stay inside the served directory.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Errno } from '../src/abi/linux/errno.js';
import type { P9Client } from '../src/p9/client.js';
import { makeTree, startGofer, type Peer, type Tree } from '../testlib/p9_gofer.js';

let tree: Tree;
let peer: Peer;
let c: P9Client;

before(() => {
  tree = makeTree();
  peer = startGofer(tree.root);
  c = peer.client;
});

after(async () => {
  const code = await peer.stop();
  tree.cleanup();
  assert.equal(code, 0, `gofer exit status; stderr: ${peer.stderr()}`);
});

function walk(names: string[]): number {
  const w = c.walk(c.rootFid, names);
  assert.ok(typeof w !== 'number', `walk ${names.join('/')} failed`);
  return w.fid;
}

void test('walk and getattr', () => {
  const w = c.walk(c.rootFid, ['dir', 'inner.txt']);
  assert.ok(typeof w !== 'number');
  assert.equal(w.qids.length, 2);
  assert.equal(w.qids[0]?.type, 0x80);
  const a = c.getattr(w.fid);
  assert.ok(typeof a !== 'number');
  const st = fs.statSync(`${tree.root}/dir/inner.txt`, { bigint: true });
  assert.equal(a.size, 6n);
  assert.equal(a.mode, Number(st.mode));
  assert.equal(a.qid.path & ((1n << 56n) - 1n), st.ino);
  assert.equal(c.clunk(w.fid), 0);
  assert.equal(c.walk(c.rootFid, ['nope']), -Errno.ENOENT);
  assert.equal(c.walk(c.rootFid, ['dir', 'nope']), -Errno.ENOENT);
});

void test('lopen and read through Tread and through the donated fd', () => {
  const fid = walk(['hello.txt']);
  const o = c.lopen(fid, 0);
  assert.ok(typeof o !== 'number');
  assert.ok(o.fd !== undefined, 'a regular file comes with its host fd');
  const data = c.read(fid, 0n, 4096);
  assert.ok(data instanceof Uint8Array);
  assert.equal(Buffer.from(data).toString(), 'hello, gofer\n');
  const buf = Buffer.alloc(64);
  const n = fs.readSync(o.fd.fd, buf, 0, 64, 7);
  assert.equal(buf.subarray(0, n).toString(), 'gofer\n');
  // Opened read-only: the donated fd must not write.
  assert.throws(() => fs.writeSync(o.fd?.fd ?? -1, 'x'), /EBADF/);
  o.fd.close();
  assert.equal(c.clunk(fid), 0);
  // A directory is opened without a donated fd; reading it with Tread is refused.
  const d = walk(['dir']);
  const od = c.lopen(d, 0);
  assert.ok(typeof od !== 'number' && od.fd === undefined);
  assert.equal(c.read(d, 0n, 10), -Errno.EISDIR);
  assert.equal(c.lopen(d, 1), -Errno.EBUSY);
  c.clunk(d);
  const d2 = walk(['dir']);
  assert.equal(c.lopen(d2, 1), -Errno.EISDIR);
  c.clunk(d2);
});

void test('readdir lists every entry once, across small reads', () => {
  const fid = walk([]);
  assert.ok(typeof c.lopen(fid, 0) !== 'number');
  const names: string[] = [];
  let off = 0n;
  for (let i = 0; i < 100; i++) {
    const ents = c.readdir(fid, off, 60);
    assert.ok(typeof ents !== 'number');
    if (ents.length === 0) break;
    for (const e of ents) names.push(e.name);
    off = ents[ents.length - 1]?.offset ?? off;
  }
  assert.deepEqual(names.sort(), fs.readdirSync(tree.root).sort());
  c.clunk(fid);
});

void test('readlink and statfs', () => {
  const fid = walk(['abs_link']);
  assert.equal(c.readlink(fid), '/etc/passwd');
  assert.equal(c.lopen(fid, 0), -Errno.ELOOP);
  c.clunk(fid);
  const s = c.statfs(c.rootFid);
  assert.ok(typeof s !== 'number');
  assert.equal(s.namelen, 255);
  assert.ok(s.blocks > 0n);
  const r = walk(['hello.txt']);
  assert.equal(c.readlink(r), -Errno.EINVAL);
  c.clunk(r);
});

void test('escapes: symlinks are never followed, ".." stays at the root, names are one component', () => {
  const root = c.getattr(c.rootFid);
  assert.ok(typeof root !== 'number');
  // ".." at the root is the root.
  const up = c.walk(c.rootFid, ['..', '..', '..']);
  assert.ok(typeof up !== 'number');
  for (const q of up.qids) assert.equal(q.path, root.qid.path);
  c.clunk(up.fid);
  // The "outside" directory beside the root is not reachable by name through "..".
  assert.equal(c.walk(c.rootFid, ['..', 'outside']), -Errno.ENOENT);
  assert.equal(c.walk(c.rootFid, ['..', 'outside', 'secret.txt']), -Errno.ENOENT);
  // Walking through symlinks (to "/", to "../../..", to an absolute path, to outside) fails.
  for (const p of [
    ['to_root', 'etc'],
    ['dir', 'up', 'etc'],
    ['to_outside', 'secret.txt'],
    ['abs_link', 'x'],
  ]) {
    const r = c.walk(c.rootFid, p);
    assert.ok(typeof r === 'number', `walk ${p.join('/')} must fail`);
  }
  // A symlink fid is the link itself: its target text, never the target's content.
  const s = walk(['to_secret']);
  assert.equal(c.lopen(s, 0), -Errno.ELOOP);
  const a = c.getattr(s);
  assert.ok(typeof a !== 'number' && a.qid.type === 0x02);
  c.clunk(s);
  // Names with "/" and the empty and "." names are refused.
  assert.equal(c.walk(c.rootFid, ['dir/inner.txt']), -Errno.EINVAL);
  assert.equal(c.walk(c.rootFid, ['../outside']), -Errno.EINVAL);
  assert.equal(c.walk(c.rootFid, ['/etc']), -Errno.EINVAL);
  assert.equal(c.walk(c.rootFid, ['']), -Errno.EINVAL);
  assert.equal(c.walk(c.rootFid, ['.']), -Errno.EINVAL);
  // More than 16 names still walk (the client splits them) and ".." never leaves the root.
  const deep = c.walk(c.rootFid, [...Array.from({ length: 20 }, () => '..'), 'hello.txt']);
  assert.ok(typeof deep !== 'number');
  assert.equal(deep.qids.length, 21);
  c.clunk(deep.fid);
});

void test('fid bookkeeping: clunk of an unknown fid, walk to a used fid', () => {
  assert.equal(c.clunk(4242), -Errno.EBADF);
  assert.equal(c.getattr(4242), -Errno.EBADF);
  const a = walk(['dir']);
  const b = c.walk(a, ['..', 'hello.txt']);
  assert.ok(typeof b !== 'number');
  c.clunk(a);
  c.clunk(b.fid);
});
