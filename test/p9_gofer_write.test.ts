// Integration: write-class operations through our Gofer (writable, then --readonly). Checks the
// host directory afterwards: what was asked happened inside the served tree, nothing outside it
// changed, and a read-only Gofer refused every write with EROFS.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Errno } from '../src/abi/linux/errno.js';
import {
  P9_ATTR_MODE,
  P9_ATTR_MTIME,
  P9_ATTR_MTIME_SET,
  P9_ATTR_SIZE,
  type P9Client,
} from '../src/p9/client.js';
import { HostFd } from '../src/host/fd.js';
import { fgetxattr, XATTR_CREATE, XATTR_REPLACE } from '../src/host/xattr.js';
import { makeTree, startGofer, type Peer, type Tree } from '../testlib/p9_gofer.js';

const O_WRONLY = 1;
const O_RDWR = 2;
const O_TRUNC = 0o1000;
const AT_REMOVEDIR = 0x200;

function walk(c: P9Client, names: string[]): number {
  const w = c.walk(c.rootFid, names);
  assert.ok(typeof w !== 'number', `walk ${names.join('/')} failed`);
  return w.fid;
}

/** The host's own value of `name` on `file` (through an fd of ours), or -errno. */
function hostXattr(file: string, name: string): string | number {
  const fd = new HostFd(fs.openSync(file, 'r'));
  try {
    const v = fgetxattr(fd, name);
    return typeof v === 'number' ? v : Buffer.from(v).toString();
  } finally {
    fd.close();
  }
}

/** Txattrwalk + Tread (in reads of at most `chunk` bytes) + Tclunk: the bytes, or -errno. */
function xattrGet(c: P9Client, fid: number, name: string, chunk = 1 << 16): Buffer | number {
  const w = c.xattrwalk(fid, name);
  if (typeof w === 'number') return w;
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < Number(w.size)) {
    const d = c.read(w.fid, BigInt(got), chunk);
    assert.ok(d instanceof Uint8Array && d.length > 0, 'xattr read');
    parts.push(d);
    got += d.length;
  }
  assert.equal(c.clunk(w.fid), 0);
  return Buffer.concat(parts);
}

/** Txattrcreate on a clone of `fid` + Twrite + Tclunk, as Linux's v9fs sets an attribute. */
function xattrSet(c: P9Client, fid: number, name: string, value: Buffer, flags: number): number {
  const clone = c.walk(fid, []);
  assert.ok(typeof clone !== 'number');
  const r = c.xattrcreate(clone.fid, name, BigInt(value.length), flags);
  if (r < 0) {
    c.clunk(clone.fid);
    return r;
  }
  for (let off = 0; off < value.length;) {
    const n = c.write(clone.fid, BigInt(off), value.subarray(off));
    assert.ok(n > 0);
    off += n;
  }
  return c.clunk(clone.fid);
}

function snapshot(dir: string): string {
  const out: string[] = [];
  const visit = (p: string): void => {
    const st = fs.lstatSync(p);
    out.push(`${path.relative(dir, p)} ${st.mode} ${st.size} ${st.mtimeMs}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) visit(path.join(p, n));
  };
  visit(dir);
  return out.join('\n');
}

void describe('writable gofer', () => {
  let tree: Tree;
  let peer: Peer;
  let c: P9Client;
  let outsideBefore: string;
  before(() => {
    tree = makeTree();
    outsideBefore = snapshot(tree.outside);
    peer = startGofer(tree.root);
    c = peer.client;
  });
  after(async () => {
    const code = await peer.stop();
    assert.equal(snapshot(tree.outside), outsideBefore, 'nothing outside the root changed');
    assert.equal(fs.readFileSync('/etc/passwd', 'utf8').includes('pwned'), false);
    tree.cleanup();
    assert.equal(code, 0, peer.stderr());
  });

  void test('lcreate, write, read back, fsync; the donated fd has the access asked', () => {
    const d = walk(c, ['dir']);
    const o = c.lcreate(d, 'new.txt', O_RDWR, 0o640, 0);
    assert.ok(typeof o !== 'number');
    assert.ok(o.fd !== undefined);
    assert.equal(c.write(d, 0n, Buffer.from('via 9p ')), 7);
    assert.equal(fs.writeSync(o.fd.fd, 'via fd', 7), 6);
    assert.equal(c.fsync(d), 0);
    const back = c.read(d, 0n, 100);
    assert.ok(back instanceof Uint8Array);
    assert.equal(Buffer.from(back).toString(), 'via 9p via fd');
    assert.equal(fs.readFileSync(path.join(tree.root, 'dir/new.txt'), 'utf8'), 'via 9p via fd');
    assert.equal(fs.statSync(path.join(tree.root, 'dir/new.txt')).mode & 0o777, 0o640);
    o.fd.close();
    c.clunk(d);
    // Opened write-only: the donated fd cannot read.
    const w = walk(c, ['hello.txt']);
    const ow = c.lopen(w, O_WRONLY);
    assert.ok(typeof ow !== 'number' && ow.fd !== undefined);
    assert.throws(() => fs.readSync(ow.fd?.fd ?? -1, Buffer.alloc(4)), /EBADF/);
    assert.equal(c.read(w, 0n, 4), -Errno.EBADF);
    ow.fd.close();
    c.clunk(w);
  });

  void test('lcreate never creates through a symlink', () => {
    for (const name of ['to_secret', 'abs_link']) {
      const d = walk(c, []);
      const r = c.lcreate(d, name, O_WRONLY | O_TRUNC, 0o644, 0);
      assert.ok(typeof r === 'number', `lcreate over the symlink ${name} must fail`);
      c.clunk(d);
    }
    assert.equal(fs.readFileSync(path.join(tree.outside, 'secret.txt'), 'utf8'), 'secret\n');
    const d = walk(c, []);
    assert.equal(c.lcreate(d, '../outside/x', O_WRONLY, 0o644, 0), -Errno.EINVAL);
    assert.equal(c.lcreate(d, '..', O_WRONLY, 0o644, 0), -Errno.EINVAL);
    c.clunk(d);
  });

  void test('mkdir, symlink, link, renameat, unlinkat, remove', () => {
    const root = walk(c, []);
    assert.ok(typeof c.mkdir(root, 'made', 0o750, 0) !== 'number');
    assert.ok(fs.statSync(path.join(tree.root, 'made')).isDirectory());
    assert.equal(c.mkdir(root, 'made', 0o750, 0), -Errno.EEXIST);
    assert.ok(typeof c.symlink(root, 'ln', '/etc/passwd', 0) !== 'number');
    assert.equal(fs.readlinkSync(path.join(tree.root, 'ln')), '/etc/passwd');
    const h = walk(c, ['hello.txt']);
    assert.equal(c.link(root, h, 'hard.txt'), 0);
    assert.equal(fs.statSync(path.join(tree.root, 'hello.txt')).nlink, 2);
    const made = walk(c, ['made']);
    assert.equal(c.renameat(root, 'hard.txt', made, 'moved.txt'), 0);
    assert.ok(fs.existsSync(path.join(tree.root, 'made/moved.txt')));
    assert.equal(c.renameat(root, 'hello.txt', made, '../../escaped'), -Errno.EINVAL);
    assert.equal(c.unlinkat(made, 'moved.txt', 0), 0);
    assert.equal(c.unlinkat(root, 'made', AT_REMOVEDIR), 0);
    assert.equal(fs.existsSync(path.join(tree.root, 'made')), false);
    assert.equal(c.unlinkat(root, 'ln', 0), 0);
    // Unlinking a symlink removes the link, not its target.
    assert.equal(c.unlinkat(root, 'to_secret', 0), 0);
    assert.ok(fs.existsSync(path.join(tree.outside, 'secret.txt')));
    const e = walk(c, ['empty']);
    assert.equal(c.remove(e), 0);
    assert.equal(fs.existsSync(path.join(tree.root, 'empty')), false);
    for (const f of [root, h, made]) c.clunk(f);
  });

  void test('a walked file still opens after it was renamed', () => {
    fs.writeFileSync(path.join(tree.root, 'before.txt'), 'renamed content');
    const f = walk(c, ['before.txt']);
    const root = walk(c, []);
    assert.equal(c.renameat(root, 'before.txt', root, 'after.txt'), 0);
    const o = c.lopen(f, 0);
    assert.ok(typeof o !== 'number');
    const data = c.read(f, 0n, 100);
    assert.ok(data instanceof Uint8Array);
    assert.equal(Buffer.from(data).toString(), 'renamed content');
    o.fd?.close();
    c.clunk(f);
    c.clunk(root);
  });

  void test('setattr: mode, size, mtime', () => {
    const f = walk(c, ['dir', 'inner.txt']);
    assert.equal(c.setattr(f, { valid: P9_ATTR_MODE, mode: 0o600 }), 0);
    assert.equal(c.setattr(f, { valid: P9_ATTR_SIZE, size: 2n }), 0);
    assert.equal(
      c.setattr(f, { valid: P9_ATTR_MTIME | P9_ATTR_MTIME_SET, mtimeSec: 1000000n, mtimeNsec: 0n }),
      0,
    );
    const st = fs.statSync(path.join(tree.root, 'dir/inner.txt'));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.size, 2);
    assert.equal(st.mtimeMs, 1000000 * 1000);
    c.clunk(f);
  });
  void test('xattrs: set, get (also in reads smaller than the value), list, remove', () => {
    const f = walk(c, ['dir', 'inner.txt']);
    const file = path.join(tree.root, 'dir/inner.txt');
    assert.equal(xattrGet(c, f, 'user.moat'), -Errno.ENODATA);
    assert.equal(xattrSet(c, f, 'user.moat', Buffer.from('v1'), XATTR_REPLACE), -Errno.ENODATA);
    assert.equal(xattrSet(c, f, 'user.moat', Buffer.from('v1'), XATTR_CREATE), 0);
    assert.equal(hostXattr(file, 'user.moat'), 'v1');
    assert.equal(xattrSet(c, f, 'user.moat', Buffer.from('v2'), XATTR_CREATE), -Errno.EEXIST);
    const big = Buffer.alloc(3000, 'x'); // within ext4's one-block limit
    assert.equal(xattrSet(c, f, 'user.big', big, 0), 0);
    assert.deepEqual(xattrGet(c, f, 'user.big', 1000), big);
    // An empty value is a value; size 0 with XATTR_REPLACE is Linux's removexattr.
    assert.equal(xattrSet(c, f, 'user.empty', Buffer.alloc(0), 0), 0);
    assert.equal(hostXattr(file, 'user.empty'), '');
    const list = xattrGet(c, f, '');
    assert.ok(list instanceof Buffer);
    assert.deepEqual(list.toString().split('\0').sort(), [
      '',
      'user.big',
      'user.empty',
      'user.moat',
    ]);
    assert.equal(xattrSet(c, f, 'user.big', Buffer.alloc(0), XATTR_REPLACE), 0);
    assert.equal(hostXattr(file, 'user.big'), -Errno.ENODATA);
    assert.equal(xattrSet(c, f, 'user.big', Buffer.alloc(0), XATTR_REPLACE), -Errno.ENODATA);
    // Directories too; symlinks have no user attributes (as on Linux); limits and bad flags.
    const d = walk(c, ['dir']);
    assert.equal(xattrSet(c, d, 'user.d', Buffer.from('dv'), 0), 0);
    assert.equal(hostXattr(path.join(tree.root, 'dir'), 'user.d'), 'dv');
    const l = walk(c, ['to_outside']);
    assert.equal(xattrGet(c, l, 'user.moat'), -Errno.ENODATA);
    assert.equal(xattrSet(c, l, 'user.moat', Buffer.from('x'), 0), -Errno.EPERM);
    assert.equal(c.xattrcreate(f, 'user.x', 65537n, 0), -Errno.E2BIG);
    assert.equal(c.xattrcreate(f, 'user.x', 1n, 4), -Errno.EINVAL);
    assert.equal(c.xattrcreate(f, '', 1n, 0), -Errno.EINVAL);
    // A write fid takes only its declared size, and a short one is not applied.
    const w = c.walk(f, []);
    assert.ok(typeof w !== 'number');
    assert.equal(c.xattrcreate(w.fid, 'user.short', 4n, 0), 0);
    assert.equal(c.write(w.fid, 2n, Buffer.from('abc')), -Errno.ENOSPC);
    assert.equal(c.write(w.fid, 0n, Buffer.from('ab')), 2);
    assert.equal(c.clunk(w.fid), -Errno.EINVAL);
    assert.equal(hostXattr(file, 'user.short'), -Errno.ENODATA);
    for (const x of [f, d, l]) c.clunk(x);
  });

  void test('xattrs: nothing is set through a symlink or outside the root', () => {
    const secret = path.join(tree.outside, 'secret.txt');
    for (const p of [['to_outside'], ['abs_link'], ['to_root']]) {
      const s = walk(c, p);
      assert.equal(xattrSet(c, s, 'user.pwned', Buffer.from('1'), 0), -Errno.EPERM);
      c.clunk(s);
    }
    assert.equal(hostXattr(secret, 'user.pwned'), -Errno.ENODATA);
  });
});

void describe('read-only gofer', () => {
  let tree: Tree;
  let peer: Peer;
  let c: P9Client;
  let before_: string;
  before(() => {
    tree = makeTree();
    before_ = snapshot(tree.base);
    peer = startGofer(tree.root, true);
    c = peer.client;
  });
  after(async () => {
    const code = await peer.stop();
    assert.equal(snapshot(tree.base), before_, 'nothing changed');
    tree.cleanup();
    assert.equal(code, 0, peer.stderr());
  });

  void test('every write-class operation is refused with EROFS', () => {
    const root = walk(c, []);
    const h = walk(c, ['hello.txt']);
    assert.equal(c.lopen(h, O_WRONLY), -Errno.EROFS);
    assert.equal(c.lopen(h, O_RDWR), -Errno.EROFS);
    assert.equal(c.lopen(h, O_TRUNC), -Errno.EROFS);
    assert.equal(c.lcreate(root, 'x', O_WRONLY, 0o644, 0), -Errno.EROFS);
    assert.equal(c.mkdir(root, 'x', 0o755, 0), -Errno.EROFS);
    assert.equal(c.symlink(root, 'x', '/', 0), -Errno.EROFS);
    assert.equal(c.link(root, h, 'x'), -Errno.EROFS);
    assert.equal(c.renameat(root, 'hello.txt', root, 'x'), -Errno.EROFS);
    assert.equal(c.unlinkat(root, 'hello.txt', 0), -Errno.EROFS);
    assert.equal(c.setattr(h, { valid: P9_ATTR_SIZE, size: 0n }), -Errno.EROFS);
    assert.equal(c.mknod(root, 'x', 0o10644, 0, 0, 0), -Errno.EROFS);
    // Reading still works, and the donated fd is read-only.
    const o = c.lopen(h, 0);
    assert.ok(typeof o !== 'number' && o.fd !== undefined);
    assert.throws(() => fs.writeSync(o.fd?.fd ?? -1, 'x'), /EBADF/);
    assert.equal(c.write(h, 0n, Buffer.from('x')), -Errno.EROFS);
    o.fd.close();
    const e = walk(c, ['empty']);
    assert.equal(c.remove(e), -Errno.EROFS);
    // Extended attributes: readable, never written (Txattrcreate is EROFS, before any write).
    assert.equal(c.xattrcreate(h, 'user.x', 1n, 0), -Errno.EROFS);
    assert.equal(c.xattrcreate(h, 'user.x', 0n, XATTR_REPLACE), -Errno.EROFS);
    const w = c.xattrwalk(h, 'user.none');
    assert.equal(w, -Errno.ENODATA);
    const list = c.xattrwalk(h, '');
    assert.ok(typeof list !== 'number');
    assert.equal(c.clunk(list.fid), 0);
    c.clunk(root);
    c.clunk(h);
  });
});
