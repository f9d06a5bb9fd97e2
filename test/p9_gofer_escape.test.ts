// Integration: our Gofer against a client that tries to leave the served tree the way an
// attacker would, with help from the host side (what a bundle or a racing process can do):
// a directory swapped for a symlink between Twalk and Tlcreate/Tlopen/Treaddir, symlinks to
// "/proc/self/root", and a hard link inside the root to a file outside it. (Symlinks to "/",
// "../../..", absolute paths and ".." at the root are in p9_gofer.test.ts; EROFS for every
// write-class request in p9_gofer_write.test.ts.) Nothing outside the root may be reached or
// changed, except the hard-linked file's content, which Linux (and runc) would read too.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Errno } from '../src/abi/linux/errno.js';
import { P9_ATTR_MODE, P9_ATTR_SIZE, type P9Client } from '../src/p9/client.js';
import { makeTree, startGofer, type Peer, type Tree } from '../testlib/p9_gofer.js';

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_TRUNC = 0o1000;

function walk(c: P9Client, names: string[]): number {
  const w = c.walk(c.rootFid, names);
  assert.ok(typeof w !== 'number', `walk ${names.join('/')} failed`);
  return w.fid;
}

/** Every name under `dir` with its content (files) or target (symlinks). */
function listing(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    for (const n of fs.readdirSync(path.join(dir, rel)).sort()) {
      const p = path.join(rel, n);
      const st = fs.lstatSync(path.join(dir, p));
      if (st.isDirectory()) {
        out.push(`${p}/ ${st.mode}`);
        visit(p);
      } else if (st.isSymbolicLink()) out.push(`${p} -> ${fs.readlinkSync(path.join(dir, p))}`);
      else out.push(`${p} ${st.mode} ${fs.readFileSync(path.join(dir, p), 'utf8')}`);
    }
  };
  visit('');
  return out;
}

void describe('writable gofer, racing host', () => {
  let tree: Tree;
  let peer: Peer;
  let c: P9Client;
  let outsideBefore: string[];
  before(() => {
    tree = makeTree();
    fs.mkdirSync(path.join(tree.root, 'swap'));
    fs.writeFileSync(path.join(tree.root, 'swap', 'mine.txt'), 'mine\n');
    fs.symlinkSync('/proc/self/root', path.join(tree.root, 'proc_root'));
    fs.symlinkSync('/proc/self/root/etc', path.join(tree.root, 'proc_etc'));
    outsideBefore = listing(tree.outside);
    peer = startGofer(tree.root);
    c = peer.client;
  });
  after(async () => {
    const code = await peer.stop();
    assert.deepEqual(listing(tree.outside), outsideBefore, 'nothing outside the root changed');
    tree.cleanup();
    assert.equal(code, 0, peer.stderr());
  });

  void test('a directory replaced by a symlink to outside after Twalk: lcreate, lopen, readdir stay in the walked directory', () => {
    // Three fids walked to the directory before the swap.
    const forCreate = walk(c, ['swap']);
    const forOpen = walk(c, ['swap']);
    const forWalk = walk(c, ['swap']);
    // The host (a racing process) moves the directory away and puts a symlink in its place.
    fs.renameSync(path.join(tree.root, 'swap'), path.join(tree.root, 'swap_old'));
    fs.symlinkSync(tree.outside, path.join(tree.root, 'swap'));
    // Tlcreate creates in the directory that was walked (now swap_old), never through the link.
    const o = c.lcreate(forCreate, 'planted.txt', O_RDWR, 0o644, 0);
    if (typeof o !== 'number') {
      o.fd?.close();
      assert.ok(fs.existsSync(path.join(tree.root, 'swap_old', 'planted.txt')));
    }
    assert.equal(fs.existsSync(path.join(tree.outside, 'planted.txt')), false);
    // Tlopen + Treaddir list the walked directory, not the symlink's target.
    const d = c.lopen(forOpen, O_RDONLY);
    assert.ok(typeof d !== 'number', 'lopen of the walked directory');
    const ents = c.readdir(forOpen, 0n, 8192);
    assert.ok(Array.isArray(ents));
    const names = ents.map((e) => e.name).sort();
    assert.ok(names.includes('mine.txt'), names.join(','));
    assert.equal(names.includes('secret.txt'), false);
    // Walking on from the old fid finds the old directory's entries only.
    assert.equal(c.walk(forWalk, ['secret.txt']), -Errno.ENOENT);
    const mine = c.walk(forWalk, ['mine.txt']);
    assert.ok(typeof mine !== 'number');
    c.clunk(mine.fid);
    // A fresh walk through the new name stops at the symlink.
    assert.equal(c.walk(c.rootFid, ['swap', 'secret.txt']), -Errno.ENOENT);
    const link = walk(c, ['swap']);
    assert.equal(c.lopen(link, O_RDONLY), -Errno.ELOOP);
    assert.equal(c.lcreate(link, 'x', O_WRONLY, 0o644, 0), -Errno.ENOTDIR);
    assert.equal(c.mkdir(link, 'x', 0o755, 0), -Errno.ENOTDIR);
    for (const f of [forCreate, forOpen, forWalk, link]) c.clunk(f);
  });

  void test('a directory removed and replaced by a symlink: the old fid creates nothing anywhere', () => {
    fs.mkdirSync(path.join(tree.root, 'gone'));
    const f = walk(c, ['gone']);
    fs.rmdirSync(path.join(tree.root, 'gone'));
    fs.symlinkSync(tree.outside, path.join(tree.root, 'gone'));
    assert.equal(c.lcreate(f, 'planted2.txt', O_RDWR, 0o644, 0), -Errno.ENOENT);
    assert.equal(c.mkdir(f, 'planted_dir', 0o755, 0), -Errno.ENOENT);
    assert.equal(c.symlink(f, 'planted_link', '/', 0), -Errno.ENOENT);
    assert.equal(fs.existsSync(path.join(tree.outside, 'planted2.txt')), false);
    c.clunk(f);
  });

  void test('symlinks to /proc/self/root are links, never walked through', () => {
    for (const p of [
      ['proc_root', 'etc', 'passwd'],
      ['proc_root', 'proc'],
      ['proc_etc', 'passwd'],
    ]) {
      assert.equal(c.walk(c.rootFid, p), -Errno.ENOENT, `walk ${p.join('/')}`);
    }
    const l = walk(c, ['proc_root']);
    assert.equal(c.readlink(l), '/proc/self/root');
    assert.equal(c.lopen(l, O_RDONLY), -Errno.ELOOP);
    const a = c.getattr(l);
    assert.ok(typeof a !== 'number' && a.qid.type === 0x02);
    c.clunk(l);
  });
});

void describe('a hard link inside the root to a file outside it', () => {
  let tree: Tree;
  let secret: string;
  before(() => {
    tree = makeTree();
    secret = path.join(tree.outside, 'secret.txt');
    // What a bundle can hold (same file system): runc would serve it the same way.
    fs.linkSync(secret, path.join(tree.root, 'hard'));
  });
  after(() => {
    tree.cleanup();
  });

  void test('is readable (Linux semantics, as runc), and a read-only Gofer refuses every write to it', async () => {
    const peer = startGofer(tree.root, true);
    const c = peer.client;
    try {
      const h = walk(c, ['hard']);
      const o = c.lopen(h, O_RDONLY);
      assert.ok(typeof o !== 'number');
      o.fd?.close();
      const data = c.read(h, 0n, 100);
      assert.ok(data instanceof Uint8Array);
      assert.equal(Buffer.from(data).toString(), 'secret\n');
      const w = walk(c, ['hard']);
      assert.equal(c.lopen(w, O_WRONLY), -Errno.EROFS);
      assert.equal(c.lopen(w, O_RDWR), -Errno.EROFS);
      assert.equal(c.lopen(w, O_RDONLY | O_TRUNC), -Errno.EROFS);
      assert.equal(c.setattr(w, { valid: P9_ATTR_SIZE, size: 0n }), -Errno.EROFS);
      assert.equal(c.setattr(w, { valid: P9_ATTR_MODE, mode: 0o777 }), -Errno.EROFS);
      assert.equal(c.xattrcreate(w, 'user.pwned', 1n, 0), -Errno.EROFS);
      const root = walk(c, []);
      assert.equal(c.unlinkat(root, 'hard', 0), -Errno.EROFS);
      assert.equal(c.link(root, w, 'hard2'), -Errno.EROFS);
      for (const f of [h, w, root]) c.clunk(f);
    } finally {
      const code = await peer.stop();
      assert.equal(code, 0, peer.stderr());
    }
    const st = fs.statSync(secret);
    assert.equal(fs.readFileSync(secret, 'utf8'), 'secret\n');
    assert.equal(st.nlink, 2);
    assert.equal(st.mode & 0o777, 0o644);
  });
});
