// Unit tests of connected Unix sockets: stream bytes and record boundaries, descriptions in
// flight held and dropped, shutdown mirrored on the peer, the end of the connection, and the
// send buffer that makes a sender wait.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../abi/linux/errno.js';
import { POLLHUP, POLLIN, POLLOUT, POLLRDHUP } from '../../abi/linux/file.js';
import { newPipe } from '../fsimpl/pipe/pipe.js';
import { SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, UnixEndpoint } from './unix_socket.js';

const cred = { pid: 1, uid: 0, gid: 0 };

function connected(type: number): [UnixEndpoint, UnixEndpoint] {
  const a = new UnixEndpoint(type, cred);
  const b = new UnixEndpoint(type, cred);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

const text = (s: string): Uint8Array => Buffer.from(s);

describe('unix socket pair', () => {
  it('streams bytes across sends; records keep their boundaries and truncate', () => {
    const [a, b] = connected(SOCK_STREAM);
    a.send(text('ab'), []);
    a.send(text('cd'), []);
    const buf = new Uint8Array(8);
    const r = b.recv(buf, false);
    assert.ok(typeof r !== 'number');
    assert.equal(Buffer.from(buf.subarray(0, r.n)).toString(), 'abcd');
    assert.equal(b.recv(buf, false), -Errno.EAGAIN);
    const [c, d] = connected(SOCK_SEQPACKET);
    c.send(text('first'), []);
    c.send(text('second'), []);
    const small = d.recv(new Uint8Array(3), false);
    assert.ok(typeof small !== 'number' && small.truncated && small.full === 5 && small.n === 3);
    const next = d.recv(buf, false);
    assert.ok(typeof next !== 'number' && next.n === 6);
  });

  it('holds descriptions in flight and drops them when the queue goes', () => {
    const [a, b] = connected(SOCK_STREAM);
    const [r, w] = newPipe(0, 0, 0);
    r.incRef();
    a.send(text('x'), [r]);
    r.decRef();
    assert.equal(r.released, false, 'the queue holds a reference');
    b.release();
    assert.equal(r.released, true, 'dropped with the queue');
    w.decRef();
  });

  it('a stream read stops before a packet that carries descriptions', () => {
    const [a, b] = connected(SOCK_STREAM);
    const [r, w] = newPipe(0, 0, 0);
    a.send(text('plain'), []);
    a.send(text('withfd'), [r]);
    const first = b.recv(new Uint8Array(64), false);
    assert.ok(typeof first !== 'number' && first.n === 5 && first.rights.length === 0);
    const second = b.recv(new Uint8Array(64), false);
    assert.ok(typeof second !== 'number' && second.n === 6 && second.rights.length === 1);
    for (const f of typeof second === 'number' ? [] : second.rights) f.decRef();
    w.decRef();
  });

  it('shutdown shows on the peer; the end of the connection by type', () => {
    const [a, b] = connected(SOCK_STREAM);
    a.shutdown(1);
    assert.equal(a.send(text('x'), []), -Errno.EPIPE);
    assert.equal(b.readiness() & (POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
    const eof = b.recv(new Uint8Array(4), false);
    assert.ok(typeof eof !== 'number' && eof.n === 0);
    b.release();
    assert.equal(a.readiness() & POLLHUP, POLLHUP);
    const [c, d] = connected(SOCK_DGRAM);
    d.release();
    assert.equal(c.send(text('x'), []), -Errno.ECONNREFUSED);
    assert.equal(c.recv(new Uint8Array(4), false), -Errno.EAGAIN);
  });

  it('a sender waits once the peer holds its send buffer, and is told when it drains', () => {
    const [a, b] = connected(SOCK_STREAM);
    a.sndbuf = 4608;
    let woken = 0;
    a.subscribe(() => woken++);
    while (a.send(new Uint8Array(1000), []) > 0) {
      /* fill */
    }
    assert.equal(a.send(new Uint8Array(10), []), -Errno.EAGAIN);
    assert.equal(a.readiness() & POLLOUT, 0);
    b.recv(new Uint8Array(8192), false);
    assert.ok(woken > 0);
    assert.equal(a.readiness() & POLLOUT, POLLOUT);
  });
});
