// Integration: our Gofer against a hostile client speaking raw frames — requests before
// Tversion, malformed frames, R-messages, fds pushed at the Gofer, an oversized frame — and a
// look at the Gofer's own mount namespace after confinement (only the served tree, read-only
// when asked). The Gofer must answer Rlerror and keep serving, or end the session; never crash
// or leak an fd.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Errno } from '../src/abi/linux/errno.js';
import { HostFd } from '../src/host/fd.js';
import { sendAll } from '../src/host/socket.js';
import { CodecError, decode, encode, NOFID, NOTAG, type Msg } from '../src/p9/codec.js';
import { FrameChannel } from '../src/p9/transport.js';
import {
  GOFER_MAIN,
  goferArgv,
  makeTree,
  spawnOnSocket,
  startGofer,
  waitExit,
} from '../testlib/p9_gofer.js';

const MSIZE = 8192;

function frame(m: Msg): Uint8Array {
  const b = encode(m);
  if (b instanceof CodecError) throw new Error(b.message);
  return b;
}

function reply(ch: FrameChannel): Msg {
  const f = ch.read();
  assert.ok(typeof f !== 'number' && !(f instanceof CodecError), 'a reply');
  const m = decode(f.frame, MSIZE);
  assert.ok(!(m instanceof CodecError), 'a well-formed reply');
  return m;
}

function expectError(ch: FrameChannel, ecode: number, tag: number): void {
  const m = reply(ch);
  assert.equal(m.type, 'Rlerror');
  if (m.type === 'Rlerror') assert.equal(m.ecode, ecode);
  assert.equal(m.tag, tag);
}

void test('malformed and out-of-order requests get Rlerror, and the session goes on', async () => {
  const tree = makeTree();
  const peer = spawnOnSocket(goferArgv(tree.root));
  const ch = new FrameChannel(peer.sock, MSIZE);
  try {
    sendAll(peer.sock, frame({ type: 'Tgetattr', tag: 1, fid: 0, requestMask: 0x7ffn }));
    expectError(ch, Errno.EPROTO, 1);
    sendAll(peer.sock, frame({ type: 'Tversion', tag: NOTAG, msize: MSIZE, version: '9P2000.L' }));
    const v = reply(ch);
    assert.ok(v.type === 'Rversion' && v.msize === MSIZE);
    sendAll(
      peer.sock,
      frame({ type: 'Tattach', tag: 2, fid: 0, afid: NOFID, uname: 'root', aname: '', nUname: 0 }),
    );
    assert.equal(reply(ch).type, 'Rattach');
    // A string with a NUL byte: Twalk fid 0 → 1, one name "a\0b".
    const nul = frame({ type: 'Twalk', tag: 3, fid: 0, newfid: 1, wnames: ['aXb'] });
    nul[nul.length - 2] = 0;
    sendAll(peer.sock, nul);
    expectError(ch, Errno.EINVAL, 3);
    // nwname = 17.
    const many = frame({ type: 'Twalk', tag: 4, fid: 0, newfid: 1, wnames: [] });
    many[15] = 17;
    sendAll(peer.sock, many);
    expectError(ch, Errno.EINVAL, 4);
    // A reply sent as a request; an unknown message type.
    sendAll(peer.sock, frame({ type: 'Rclunk', tag: 5 }));
    expectError(ch, Errno.EINVAL, 5);
    const unk = frame({ type: 'Tclunk', tag: 6, fid: 0 });
    unk[4] = 200;
    sendAll(peer.sock, unk);
    expectError(ch, Errno.EINVAL, 6);
    // Fds pushed at the Gofer are closed unread.
    const pid = peer.child.pid ?? -1;
    const fdsBefore = fs.readdirSync(`/proc/${pid}/fd`).length;
    const junk = [0, 1, 2].map(() => new HostFd(fs.openSync('/dev/null', 'r')));
    sendAll(peer.sock, frame({ type: 'Tstatfs', tag: 7, fid: 0 }), junk);
    assert.equal(reply(ch).type, 'Rstatfs');
    for (const j of junk) j.close();
    assert.equal(fs.readdirSync(`/proc/${pid}/fd`).length, fdsBefore);
    // The Gofer's mount namespace holds the served tree only, at "/".
    const mounts = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').trim().split('\n');
    assert.equal(mounts.filter((l) => l.split(' ')[4] === '/').length, 1, mounts.join('\n'));
    // A frame whose size is over msize ends the session (exit status 1).
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(0, MSIZE + 1, true);
    huge[4] = 120;
    sendAll(peer.sock, huge);
    assert.equal(ch.read(), 0);
    assert.equal(await waitExit(peer.child, 5000), 1);
  } finally {
    peer.sock.close();
    await waitExit(peer.child, 2000);
    tree.cleanup();
  }
});

void test('a read-only Gofer serves from a read-only mount', async () => {
  const tree = makeTree();
  const peer = spawnOnSocket(goferArgv(tree.root, true));
  const ch = new FrameChannel(peer.sock, MSIZE);
  try {
    sendAll(peer.sock, frame({ type: 'Tversion', tag: NOTAG, msize: MSIZE, version: '9P2000.L' }));
    assert.equal(reply(ch).type, 'Rversion');
    const mounts = fs
      .readFileSync(`/proc/${peer.child.pid ?? -1}/mountinfo`, 'utf8')
      .trim()
      .split('\n');
    const root = mounts.find((l) => l.split(' ')[4] === '/');
    assert.ok(root !== undefined);
    assert.match(root.split(' ')[5] ?? '', /^ro\b/);
  } finally {
    peer.sock.close();
    assert.equal(await waitExit(peer.child, 5000), 0);
    tree.cleanup();
  }
});

void test('the Gofer refuses to start without a usable root, or unconfined', async () => {
  // Through the stage, as the launcher starts it, with bad Gofer arguments or a bad root.
  const staged = goferArgv('/tmp');
  const dashdash = staged.lastIndexOf('--');
  const node = staged.slice(0, dashdash + 2); // ... -- <gofer main.js>
  for (const [argv, code, msg] of [
    [[...node, '--fd', '3'], 2, /usage/],
    [[...node, '--root', 'relative/dir', '--fd', '3'], 2, /usage/],
    [[...node, '--root', '/nonexistent-moat-root', '--fd', '3'], 1, /open \/nonexistent-moat-root/],
    [[...node, '--root', '/root', '--fd', '3', '--bogus'], 2, /usage/],
    [goferArgv('/nonexistent-moat-root'), 2, /nonexistent-moat-root/],
    // Run by hand on the host, not through the stage: it must not serve.
    [[process.execPath, GOFER_MAIN, '--root', '/tmp', '--fd', '3'], 1, /refusing to serve/],
  ] as const) {
    const peer = spawnOnSocket([...argv]);
    const status = await waitExit(peer.child, 10_000);
    peer.sock.close();
    assert.equal(status, code, `${argv.slice(-4).join(' ')}: ${peer.stderr()}`);
    assert.match(peer.stderr(), msg);
  }
});

void test('when the Gofer dies, every client call returns -EIO', async () => {
  const tree = makeTree();
  const peer = startGofer(tree.root);
  try {
    assert.ok(typeof peer.client.getattr(peer.client.rootFid) !== 'number');
    if (peer.child.pid !== undefined) process.kill(peer.child.pid, 'SIGKILL');
    await waitExit(peer.child, 5000);
    assert.equal(peer.client.getattr(peer.client.rootFid), -Errno.EIO);
    assert.equal(peer.client.walk(peer.client.rootFid, ['hello.txt']), -Errno.EIO);
    assert.equal(peer.client.clunk(peer.client.rootFid), -Errno.EIO);
  } finally {
    await peer.stop();
    tree.cleanup();
  }
});

void test('pipelined requests are answered each under its own tag; Tflush comes after the flushed reply', async () => {
  const tree = makeTree();
  const peer = spawnOnSocket(goferArgv(tree.root));
  const ch = new FrameChannel(peer.sock, MSIZE);
  try {
    sendAll(peer.sock, frame({ type: 'Tversion', tag: NOTAG, msize: MSIZE, version: '9P2000.L' }));
    assert.equal(reply(ch).type, 'Rversion');
    // Eight requests in one write, before any reply is read, then a flush of the fifth.
    const burst = [
      frame({ type: 'Tattach', tag: 10, fid: 0, afid: NOFID, uname: 'root', aname: '', nUname: 0 }),
      frame({ type: 'Twalk', tag: 11, fid: 0, newfid: 1, wnames: ['hello.txt'] }),
      frame({ type: 'Twalk', tag: 12, fid: 0, newfid: 2, wnames: ['dir'] }),
      frame({ type: 'Twalk', tag: 13, fid: 0, newfid: 3, wnames: ['missing'] }),
      frame({ type: 'Tgetattr', tag: 14, fid: 1, requestMask: 0x7ffn }),
      frame({ type: 'Tlopen', tag: 15, fid: 1, flags: 0 }),
      frame({ type: 'Tread', tag: 16, fid: 1, offset: 0n, count: 100 }),
      frame({ type: 'Tflush', tag: 17, oldtag: 14 }),
      frame({ type: 'Tclunk', tag: 18, fid: 2 }),
    ];
    sendAll(peer.sock, Buffer.concat(burst));
    const got = burst.map(() => reply(ch));
    assert.deepEqual(
      got.map((m) => `${m.tag}:${m.type}`),
      [
        '10:Rattach',
        '11:Rwalk',
        '12:Rwalk',
        '13:Rlerror',
        '14:Rgetattr',
        '15:Rlopen',
        '16:Rread',
        '17:Rflush',
        '18:Rclunk',
      ],
    );
    const data = got[6];
    assert.ok(data?.type === 'Rread');
    assert.equal(Buffer.from(data.data).toString(), 'hello, gofer\n');
  } finally {
    peer.sock.close();
    await waitExit(peer.child, 2000);
    tree.cleanup();
  }
});
