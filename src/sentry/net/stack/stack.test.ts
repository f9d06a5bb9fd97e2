// Unit tests of the netstack alone (no Sentry): checksums against known values, IPv4/UDP
// parsing of hostile bytes, a UDP round trip over loopback with the source kept, ICMP port
// unreachable reaching a connected socket once, echo replies, ephemeral ports and
// SO_REUSEADDR, and random bytes fed to the input never throwing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../../abi/linux/errno.js';
import { checksum } from './checksum.js';
import { ICMP_ECHO, ICMP_ECHO_REPLY, buildIcmp, parseIcmp } from './icmp.js';
import { INADDR_ANY, INADDR_LOOPBACK, IPPROTO_ICMP, buildIpv4, parseIpv4 } from './ipv4.js';
import { SocketMemory } from '../notifier.js';
import { EPHEMERAL_FIRST, EPHEMERAL_LAST, Stack } from './stack.js';
import { buildUdp, parseUdp } from './udp.js';
import { TcpEndpoint } from './tcp_endpoint.js';
import { UdpEndpoint } from './udp_endpoint.js';

const text = (s: string): Uint8Array => Buffer.from(s);

describe('netstack wire formats', () => {
  it('computes the Internet checksum (RFC 1071 example) and validates headers', () => {
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    assert.equal(checksum(b), ~0xddf2 & 0xffff);
    const p = buildIpv4(INADDR_LOOPBACK, INADDR_LOOPBACK, 17, text('x'));
    assert.equal(checksum(p.subarray(0, 20)), 0);
    const bad = p.slice();
    bad[8] = 1; // TTL changed, checksum not
    assert.equal(parseIpv4(bad), 'bad header checksum');
    assert.equal(parseIpv4(p.subarray(0, 10)), 'short');
    const long = p.slice();
    long[3] = 0xff; // total length past the bytes
    assert.equal(typeof parseIpv4(long), 'string');
  });

  it('builds and checks UDP with the pseudo-header', () => {
    const u = buildUdp(1, 2, 1000, 2000, text('payload'));
    const d = parseUdp(u, 1, 2);
    assert.ok(typeof d !== 'string');
    assert.equal(Buffer.from(d.payload).toString(), 'payload');
    assert.equal(parseUdp(u, 1, 3), 'bad checksum', 'another destination');
    assert.equal(parseUdp(u.subarray(0, 4), 1, 2), 'short');
  });
});

describe('netstack over loopback', () => {
  it('carries a datagram with its source; a connected socket hears only its peer', () => {
    const st = new Stack();
    const r = new UdpEndpoint(st);
    const s = new UdpEndpoint(st);
    assert.equal(r.bind(INADDR_LOOPBACK, 0), 0);
    assert.ok(r.localPort >= EPHEMERAL_FIRST && r.localPort <= EPHEMERAL_LAST);
    assert.equal(s.send(text('hi'), { addr: INADDR_LOOPBACK, port: r.localPort }), 2);
    const got = r.recv(new Uint8Array(8), false);
    assert.ok(typeof got !== 'number');
    assert.equal(got.port, s.localPort);
    assert.equal(got.addr, INADDR_LOOPBACK);
    const t = new UdpEndpoint(st);
    assert.equal(r.connect(INADDR_LOOPBACK, s.localPort), 0);
    t.send(text('no'), { addr: INADDR_LOOPBACK, port: r.localPort });
    assert.equal(r.recv(new Uint8Array(8), false), -Errno.EAGAIN);
    assert.equal(st.stats.udpNoPort, 1, 'port unreachable for the stranger');
    assert.equal(t.error, 0, 'an unconnected sender is not told');
  });

  it('reports a port unreachable once to a connected sender', () => {
    const st = new Stack();
    const c = new UdpEndpoint(st);
    assert.equal(c.connect(INADDR_LOOPBACK, 9), 0);
    assert.equal(c.send(text('x'), null), 1);
    assert.equal(c.recv(new Uint8Array(1), false), -Errno.ECONNREFUSED);
    assert.equal(c.recv(new Uint8Array(1), false), -Errno.EAGAIN);
    assert.equal(c.connect(0x0a000001, 9), -Errno.ENETUNREACH, 'only loopback exists');
  });

  it('shares a port only when both set SO_REUSEADDR; an ephemeral port is given back', () => {
    const st = new Stack();
    const a = new UdpEndpoint(st);
    const b = new UdpEndpoint(st);
    assert.equal(a.bind(INADDR_ANY, 5353), 0);
    assert.equal(b.bind(INADDR_LOOPBACK, 5353), -Errno.EADDRINUSE);
    a.reuseAddr = true;
    b.reuseAddr = true;
    assert.equal(b.bind(INADDR_LOOPBACK, 5353), 0);
    assert.equal(a.bind(INADDR_ANY, 1), -Errno.EINVAL, 'already bound');
    const c = new UdpEndpoint(st);
    c.connect(INADDR_LOOPBACK, 5353);
    const port = c.localPort;
    c.disconnect();
    assert.equal(c.localPort, 0);
    const d = new UdpEndpoint(st);
    assert.equal(d.bind(INADDR_ANY, port), 0, 'the port is free again');
  });

  it('answers an echo request and never throws on random bytes', () => {
    const st = new Stack();
    const req = buildIpv4(
      INADDR_LOOPBACK,
      INADDR_LOOPBACK,
      IPPROTO_ICMP,
      buildIcmp(ICMP_ECHO, 0, text('abcd')),
    );
    const before = st.stats.icmpOut;
    st.input(req);
    assert.equal(st.stats.icmpOut, before + 1);
    const reply = parseIcmp(buildIcmp(ICMP_ECHO_REPLY, 0, text('abcd')));
    assert.ok(typeof reply !== 'string' && reply.type === ICMP_ECHO_REPLY);
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(rnd() % 120);
      for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
      if (b.length > 0 && i % 2 === 0) b[0] = 0x45;
      st.input(b);
    }
    assert.ok(st.stats.dropped.size > 0);
  });
});

describe('netstack TCP over loopback', () => {
  it('connects, carries bytes both ways under the window, and closes to TIME-WAIT', () => {
    let now = 0n;
    const st = new Stack(() => now);
    const l = new TcpEndpoint(st);
    assert.equal(l.bind(INADDR_LOOPBACK, 8080), 0);
    assert.equal(l.listen(8), 0);
    const c = new TcpEndpoint(st);
    assert.equal(c.connect(INADDR_LOOPBACK, 8080), 0);
    assert.equal(c.state, 'ESTABLISHED', 'loopback finishes the handshake at once');
    const s = l.accept();
    assert.ok(typeof s !== 'number');
    assert.equal(s.remotePort, c.localPort);
    // More than the receive buffer: the sender stops at the window, the reader opens it.
    const big = new Uint8Array(400000).map((_, i) => i & 0xff);
    let sent = 0;
    let got = 0;
    const buf = new Uint8Array(65536);
    for (let rounds = 0; rounds < 1000 && got < big.length; rounds++) {
      if (sent < big.length) {
        const n = c.send(big.subarray(sent));
        if (n > 0) sent += n;
      }
      const r = s.recv(buf, false);
      if (r > 0) {
        for (let i = 0; i < r; i++) assert.equal(buf[i], (got + i) & 0xff);
        got += r;
      }
    }
    assert.equal(got, big.length);
    assert.equal(s.send(text('back')), 4);
    assert.equal(c.recv(buf, false), 4);
    c.release();
    assert.equal(s.recv(buf, false), 0, 'end of stream');
    assert.equal(s.state, 'CLOSE_WAIT');
    s.release();
    assert.equal(c.state, 'TIME_WAIT');
    const again = new TcpEndpoint(st);
    assert.equal(again.bind(INADDR_LOOPBACK, c.localPort), -Errno.EADDRINUSE, 'TIME-WAIT holds it');
    now += 61_000_000_000n;
    assert.equal(again.bind(INADDR_LOOPBACK, c.localPort), 0, 'free after TIME-WAIT');
  });

  it('holds a sender at the sandbox socket memory budget', () => {
    const st = new Stack(undefined, new SocketMemory(100000));
    const l = new TcpEndpoint(st);
    l.bind(INADDR_LOOPBACK, 9000);
    l.listen(1);
    const c = new TcpEndpoint(st);
    c.connect(INADDR_LOOPBACK, 9000);
    const s = l.accept();
    assert.ok(typeof s !== 'number');
    const big = new Uint8Array(300000);
    let sent = 0;
    for (let i = 0; i < 10; i++) {
      const n = c.send(big.subarray(sent));
      if (n < 0) break;
      sent += n;
    }
    assert.ok(sent <= 100000, `queued ${sent} bytes against a 100000-byte budget`);
    assert.equal(c.send(big), -Errno.EAGAIN);
    const buf = new Uint8Array(65536);
    while (s.recv(buf, false) > 0);
    assert.ok(c.send(big) > 0, 'room again once read');
    assert.ok(st.memory.used <= 100000);
  });

  it('refuses a closed port; resets on unread data; queues SYNs past the backlog', () => {
    const st = new Stack();
    const c = new TcpEndpoint(st);
    assert.equal(c.connect(INADDR_LOOPBACK, 9), 0);
    assert.equal(c.state, 'CLOSED');
    assert.equal(c.takeError(), -Errno.ECONNREFUSED);
    const l = new TcpEndpoint(st);
    l.bind(INADDR_ANY, 7000);
    l.listen(0);
    const a = new TcpEndpoint(st);
    const b = new TcpEndpoint(st);
    a.connect(INADDR_LOOPBACK, 7000);
    b.connect(INADDR_LOOPBACK, 7000);
    assert.equal(a.state, 'ESTABLISHED');
    assert.equal(b.state, 'SYN_SENT', 'backlog 0 holds one: the second SYN waits');
    const sa = l.accept();
    assert.equal(b.state, 'ESTABLISHED', 'accept made room');
    assert.ok(typeof sa !== 'number');
    a.send(text('unread'));
    sa.release();
    assert.equal(a.recv(new Uint8Array(8), false), -Errno.ECONNRESET);
    l.release();
    assert.equal(b.recv(new Uint8Array(8), false), -Errno.ECONNRESET, 'never accepted');
  });
});
