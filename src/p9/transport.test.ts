// Unit tests of the frame transport and of sendmsg/recvmsg with SCM_RIGHTS over a real
// socketpair: frames split across writes and several frames in one read come out whole; fds
// travel with their frame; a size field over msize is refused before waiting for the body.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { HostFd } from '../host/fd.js';
import { sendAll, socketpair } from '../host/socket.js';
import { CodecError, encode } from './codec.js';
import { FrameChannel } from './transport.js';

function pair(): [HostFd, HostFd] {
  const p = socketpair();
  assert.ok(typeof p !== 'number');
  return p;
}

void test('frames split across writes, and several in one read, come out whole', () => {
  const [a, b] = pair();
  const f1 = encode({ type: 'Rreadlink', tag: 1, target: 'x'.repeat(300) });
  const f2 = encode({ type: 'Rclunk', tag: 2 });
  assert.ok(f1 instanceof Uint8Array && f2 instanceof Uint8Array);
  const ch = new FrameChannel(b, 8192);
  sendAll(a, f1.subarray(0, 3));
  sendAll(a, f1.subarray(3, 100));
  sendAll(a, Buffer.concat([f1.subarray(100), f2]));
  const r1 = ch.read();
  assert.ok(typeof r1 !== 'number' && !(r1 instanceof CodecError));
  assert.deepEqual(Buffer.from(r1.frame), Buffer.from(f1));
  const r2 = ch.read();
  assert.ok(typeof r2 !== 'number' && !(r2 instanceof CodecError));
  assert.deepEqual(Buffer.from(r2.frame), Buffer.from(f2));
  a.close();
  assert.equal(ch.read(), 0, 'end of file');
  b.close();
});

void test('fds travel with their frame, close-on-exec', () => {
  const [a, b] = pair();
  const f = encode({ type: 'Rlopen', tag: 1, qid: { type: 0, version: 0, path: 1n }, iounit: 0 });
  assert.ok(f instanceof Uint8Array);
  const mine = [
    new HostFd(fs.openSync('/dev/null', 'r')),
    new HostFd(fs.openSync('/dev/zero', 'r')),
  ];
  assert.equal(sendAll(a, f, mine), f.length);
  const ch = new FrameChannel(b, 8192);
  const r = ch.read();
  assert.ok(typeof r !== 'number' && !(r instanceof CodecError));
  assert.equal(r.fds.length, 2);
  assert.equal(fs.readlinkSync(`/proc/self/fd/${r.fds[0]?.fd ?? -1}`), '/dev/null');
  assert.equal(fs.readlinkSync(`/proc/self/fd/${r.fds[1]?.fd ?? -1}`), '/dev/zero');
  const fdinfo = fs.readFileSync(`/proc/self/fdinfo/${r.fds[0]?.fd ?? -1}`, 'utf8');
  const flags = Number.parseInt(/flags:\s+(\d+)/.exec(fdinfo)?.[1] ?? '0', 8);
  assert.ok((flags & 0o2000000) !== 0, 'O_CLOEXEC');
  for (const x of [...r.fds, ...mine, a, b]) x.close();
});

void test('a size field over msize or under the header is refused at once', () => {
  for (const size of [8193, 3]) {
    const [a, b] = pair();
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, size, true);
    sendAll(a, head);
    const r = new FrameChannel(b, 8192).read();
    assert.ok(r instanceof CodecError);
    a.close();
    b.close();
  }
});
