// Unit tests of P9Client's handling of what a server sends, with a scripted peer: the replies
// are queued on the other end of a real socketpair before each call (the client is synchronous,
// so the peer cannot answer live in this thread). Covers errors, protocol violations that must
// break the channel (-EIO from then on), and fds: donated ones are returned, stray ones closed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Errno } from '../abi/linux/errno.js';
import { HostFd } from '../host/fd.js';
import { sendAll, socketpair } from '../host/socket.js';
import { P9Client } from './client.js';
import { CodecError, encode, NOTAG, type Msg } from './codec.js';

const QID = { type: 0, version: 0, path: 7n };

function frame(m: Msg): Uint8Array {
  const b = encode(m);
  if (b instanceof CodecError) throw new Error(b.message);
  return b;
}

/** A client attached through scripted Rversion/Rattach, and the peer end to script more. */
function scripted(version = '9P2000.L', msize = 8192): { c: P9Client | number; peer: HostFd } {
  const pair = socketpair();
  assert.ok(typeof pair !== 'number');
  const [mine, peer] = pair;
  sendAll(peer, frame({ type: 'Rversion', tag: NOTAG, msize, version }));
  sendAll(peer, frame({ type: 'Rattach', tag: 1, qid: { type: 0x80, version: 0, path: 1n } }));
  return { c: P9Client.connect(mine, { msize: 8192 }), peer };
}

function attached(): { c: P9Client; peer: HostFd } {
  const s = scripted();
  assert.ok(typeof s.c !== 'number');
  return { c: s.c, peer: s.peer };
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

void test('connect checks the version and msize', () => {
  const bad = scripted('9P2000.u');
  assert.equal(bad.c, -Errno.EIO);
  bad.peer.close();
  const big = scripted('9P2000.L', 1 << 20);
  assert.equal(big.c, -Errno.EIO);
  big.peer.close();
  const { c, peer } = attached();
  assert.equal(c.msize, 8192);
  assert.equal(c.rootFid, 0);
  c.close();
  peer.close();
});

void test('Rlerror becomes -ecode; an out-of-range ecode breaks the channel', () => {
  const { c, peer } = attached();
  sendAll(peer, frame({ type: 'Rlerror', tag: 2, ecode: Errno.ENOENT }));
  assert.equal(c.walk(0, ['x']), -Errno.ENOENT);
  sendAll(peer, frame({ type: 'Rlerror', tag: 3, ecode: 0 }));
  assert.equal(c.getattr(0), -Errno.EIO);
  // Broken: nothing more is sent or read.
  assert.equal(c.clunk(0), -Errno.EIO);
  c.close();
  peer.close();
});

void test('a reply with the wrong tag, type or size breaks the channel', () => {
  for (const bad of [
    frame({ type: 'Rclunk', tag: 99 }),
    frame({ type: 'Rremove', tag: 2 }),
    frame({ type: 'Rread', tag: 2, data: new Uint8Array(9000) }),
  ]) {
    const { c, peer } = attached();
    sendAll(peer, bad);
    assert.equal(c.clunk(0), -Errno.EIO);
    assert.equal(c.statfs(0), -Errno.EIO);
    c.close();
    peer.close();
  }
});

void test('more data or qids than asked, and end of file, are -EIO', () => {
  let s = attached();
  sendAll(s.peer, frame({ type: 'Rread', tag: 2, data: new Uint8Array(10) }));
  assert.equal(s.c.read(0, 0n, 5), -Errno.EIO);
  s.c.close();
  s.peer.close();
  s = attached();
  sendAll(s.peer, frame({ type: 'Rwalk', tag: 2, wqids: [QID, QID] }));
  assert.equal(s.c.walk(0, ['a']), -Errno.EIO);
  s.c.close();
  s.peer.close();
  s = attached();
  s.peer.close();
  assert.equal(s.c.getattr(0), -Errno.EIO);
  s.c.close();
});

void test('a partial walk is -ENOENT; its fid number is not reused at once', () => {
  const { c, peer } = attached();
  sendAll(peer, frame({ type: 'Rwalk', tag: 2, wqids: [QID] }));
  assert.equal(c.walk(0, ['a', 'b']), -Errno.ENOENT);
  sendAll(peer, frame({ type: 'Rwalk', tag: 3, wqids: [QID] }));
  const w = c.walk(0, ['a']);
  assert.ok(typeof w !== 'number');
  // A concurrent server may still hold a number just released: the next walk takes a fresh one.
  assert.equal(w.fid, 2, 'the fid of the failed walk waits in quarantine');
  c.close();
  peer.close();
});

void test('Rlopen returns the donated fd; fds with other replies are closed', () => {
  const { c, peer } = attached();
  const before = openFds();
  const donated = new HostFd(fs.openSync('/dev/null', 'r'));
  sendAll(peer, frame({ type: 'Rgetattr', tag: 2, ...attrFields() }), [donated]);
  assert.ok(typeof c.getattr(0) !== 'number');
  assert.equal(openFds(), before + 1, 'only our own copy is left open');
  sendAll(peer, frame({ type: 'Rlopen', tag: 3, qid: QID, iounit: 0 }), [donated]);
  const o = c.lopen(0, 0);
  assert.ok(typeof o !== 'number' && o.fd !== undefined);
  assert.equal(fs.readlinkSync(`/proc/self/fd/${o.fd.fd}`), '/dev/null');
  o.fd.close();
  donated.close();
  assert.equal(openFds(), before);
  c.close();
  peer.close();
});

function attrFields(): Omit<Extract<Msg, { type: 'Rgetattr' }>, 'type' | 'tag'> {
  return {
    valid: 0x7ffn,
    qid: QID,
    mode: 0o100644,
    uid: 0,
    gid: 0,
    nlink: 1n,
    rdev: 0n,
    size: 0n,
    blksize: 4096n,
    blocks: 0n,
    atimeSec: 0n,
    atimeNsec: 0n,
    mtimeSec: 0n,
    mtimeNsec: 0n,
    ctimeSec: 0n,
    ctimeNsec: 0n,
    btimeSec: 0n,
    btimeNsec: 0n,
    gen: 0n,
    dataVersion: 0n,
  };
}

void test('walkGetattr: one round trip; replies in either order; a failed walk is -ENOENT', () => {
  const { c, peer } = attached();
  // The getattr's reply first, then the walk's (a server may answer in any order).
  sendAll(peer, frame({ type: 'Rgetattr', tag: 3, ...attrFields() }));
  sendAll(peer, frame({ type: 'Rwalk', tag: 2, wqids: [QID] }));
  const r = c.walkGetattr(0, 'a');
  assert.ok(typeof r !== 'number');
  assert.equal(r.fid, 1);
  assert.equal(r.attr.qid.path, attrFields().qid.path);
  // A walk that finds nothing: the getattr's error is ignored, the fid is free again.
  sendAll(peer, frame({ type: 'Rlerror', tag: 4, ecode: Errno.ENOENT }));
  sendAll(peer, frame({ type: 'Rlerror', tag: 5, ecode: Errno.EBADF }));
  assert.equal(c.walkGetattr(0, 'missing'), -Errno.ENOENT);
  // A reply under a tag nobody asked for breaks the channel.
  sendAll(peer, frame({ type: 'Rwalk', tag: 6, wqids: [QID] }));
  sendAll(peer, frame({ type: 'Rgetattr', tag: 99, ...attrFields() }));
  assert.equal(c.walkGetattr(0, 'b'), -Errno.EIO);
  assert.equal(c.getattr(0), -Errno.EIO);
  c.close();
  peer.close();
});
