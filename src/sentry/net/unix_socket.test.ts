// Unit tests of Unix sockets: listen/connect/accept, datagrams by name, addresses; stream
// bytes and record boundaries, descriptions in flight held and dropped, shutdown mirrored on the peer, the end of the connection, and the
// send buffer that makes a sender wait.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../abi/linux/errno.js';
import { POLLHUP, POLLIN, POLLOUT, POLLRDHUP } from '../../abi/linux/file.js';
import { newPipe } from '../fsimpl/pipe/pipe.js';
import { SocketMemory } from './notifier.js';
import { encodeUnixName, parseUnixAddr } from './unix_names.js';
import {
  MAX_DGRAM_QLEN,
  SOCK_DGRAM,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  UnixEndpoint,
} from './unix_socket.js';

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

describe('unix sockets by name', () => {
  it('connects to a listener, queues for accept, and resets what is never accepted', () => {
    const srv = new UnixEndpoint(SOCK_STREAM, cred);
    assert.equal(srv.listen(0, cred), -Errno.EINVAL, 'an unbound socket cannot listen');
    srv.name = text('/s');
    assert.equal(srv.listen(0, cred), 0);
    const c1 = new UnixEndpoint(SOCK_STREAM, cred);
    const c2 = new UnixEndpoint(SOCK_STREAM, cred);
    assert.equal(c1.connectTo(srv, cred), 0);
    assert.equal(c2.connectTo(srv, cred), -Errno.EAGAIN, 'backlog 0 holds one');
    assert.equal(srv.readiness() & POLLIN, POLLIN);
    assert.equal(c1.send(text('hi'), []), 2, 'sent before accept');
    const s1 = srv.accept();
    assert.ok(typeof s1 !== 'number');
    const got = s1.recv(new Uint8Array(4), false);
    assert.ok(typeof got !== 'number' && got.n === 2);
    assert.equal(c2.connectTo(srv, cred), 0, 'room again');
    srv.release();
    assert.equal(c2.takeError(), -Errno.ECONNRESET, 'never accepted');
    assert.equal(c2.takeError(), 0, 'reported once');
    s1.release();
    c1.release();
  });

  it('datagrams go to a named socket, not to one connected elsewhere; disconnecting drops', () => {
    const r = new UnixEndpoint(SOCK_DGRAM, cred);
    const a = new UnixEndpoint(SOCK_DGRAM, cred);
    const b = new UnixEndpoint(SOCK_DGRAM, cred);
    a.name = text('\0a');
    assert.equal(a.sendTo(r, text('x'), [], cred), 1);
    assert.equal(r.connectDgram(a), 0);
    assert.equal(b.sendTo(r, text('y'), [], cred), -Errno.EPERM);
    assert.equal(r.connectDgram(null), 0);
    assert.equal(r.recv(new Uint8Array(4), false), -Errno.EAGAIN, 'the queue went');
    for (let i = 0; i <= MAX_DGRAM_QLEN; i++) assert.equal(b.sendTo(r, text('q'), [], cred), 1);
    assert.equal(b.sendTo(r, text('q'), [], cred), -Errno.EAGAIN, 'max_dgram_qlen + 1');
    const got = r.recv(new Uint8Array(4), false);
    assert.ok(typeof got !== 'number' && got.from === null);
    r.release();
    assert.equal(b.sendTo(r, text('z'), [], cred), -Errno.ECONNREFUSED);
  });
});

describe('unix addresses', () => {
  it('decodes paths, abstract names and autobind; encodes what getsockname returns', () => {
    const sa = (s: string): Uint8Array =>
      Buffer.concat([Buffer.from([1, 0]), Buffer.from(s, 'latin1')]);
    const p = parseUnixAddr(sa('/tmp/x\0junk'), 13);
    assert.ok(typeof p !== 'number' && p.kind === 'path' && p.path === '/tmp/x');
    const ab = parseUnixAddr(sa('\0ab'), 5);
    assert.ok(typeof ab !== 'number' && ab.kind === 'abstract' && ab.name.length === 3);
    assert.deepEqual(parseUnixAddr(sa(''), 2), { kind: 'autobind' });
    assert.equal(parseUnixAddr(sa('x'), 1), -Errno.EINVAL);
    assert.equal(parseUnixAddr(sa('x'.repeat(120)), 111), -Errno.EINVAL);
    assert.equal(encodeUnixName(text('/a')).length, 2 + 2 + 1, 'path with its NUL');
    assert.equal(encodeUnixName(text('\0a')).length, 2 + 2, 'abstract, exact');
    assert.equal(encodeUnixName(null).length, 2);
  });
});

describe('the sandbox socket memory budget', () => {
  it('refuses a send past the budget and gives the room back as the reader takes bytes', () => {
    const mem = new SocketMemory(10);
    const a = new UnixEndpoint(SOCK_STREAM, cred);
    const b = new UnixEndpoint(SOCK_STREAM, cred);
    a.peer = b;
    b.peer = a;
    a.mem = mem;
    b.mem = mem;
    assert.equal(a.send(text('12345678'), []), 8);
    assert.equal(a.send(text('abcdef'), []), 2, 'a stream takes what the budget allows');
    assert.equal(a.send(text('cdef'), []), -Errno.EAGAIN, 'then waits');
    let woke = 0;
    mem.subscribe(() => woke++);
    const got = b.recv(new Uint8Array(4), false);
    assert.ok(typeof got !== 'number' && got.n === 4);
    assert.equal(mem.used, 6);
    assert.ok(woke > 0, 'waiters hear of the room');
    assert.equal(a.send(text('cdef'), []), 4);
    b.release();
    assert.equal(mem.used, 0, 'a dropped queue gives its bytes back');
  });
});
