// The socket calls on AF_INET sockets, served by the Sentry's netstack (net/stack/) over the
// loopback interface: UDP and TCP — socket, bind (ephemeral ports, SO_REUSEADDR, ports below
// 1024 with CAP_NET_BIND_SERVICE), listen, connect (a non-blocking one answers EINPROGRESS, a
// blocking one waits for the handshake; a UDP AF_UNSPEC dissolves), accept/accept4,
// send/recv in every form (sockaddr_in sources for UDP; full blocking TCP sends and
// MSG_WAITALL), getsockname/getpeername, shutdown. `withInet` routes each call to these
// handlers when its fd is an AF_INET socket and to the Unix ones otherwise. IPv6 is not there
// yet (EAFNOSUPPORT). Never trusts a pointer or a length from the application; packets never
// reach the host.

import { CAP_NET_BIND_SERVICE } from '../../abi/linux/capability.js';
import { Errno } from '../../abi/linux/errno.js';
import { O_NONBLOCK, O_RDWR, POLLIN, POLLOUT } from '../../abi/linux/file.js';
import { BLOCKED } from '../kernel/block.js';
import { sendSignal } from '../kernel/signals.js';
import { capable } from '../kernel/credentials.js';
import type { Task } from '../kernel/task.js';
import {
  AF_INET,
  IPPROTO_TCP,
  IPPROTO_UDP,
  InetSocket,
  inetOf,
  inetSocketFile,
} from '../net/inet_socket.js';
import type { TcpEndpoint } from '../net/stack/tcp_endpoint.js';
import { stackFor } from '../net/sandbox_net.js';
import type { Stack } from '../net/stack/stack.js';
import { FileDescription } from '../vfs/file_description.js';
import { int } from './args.js';
import { finishMsghdr, gather, readMsghdr, scatter, type MsgHdr } from './sys_socket.js';
import type { Iovec } from './sys_file_common.js';
import { putAddr } from './sys_socket_addr.js';
import { peerCredOf } from './sys_socket_conn.js';
import type { SyscallEntry, SyscallHandler } from './types.js';

const AF_UNSPEC = 0;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOMAXCONN = 4096;
const MSG_WAITALL = 0x100;
const MSG_NOSIGNAL = 0x4000;
const SIGPIPE = 13;
const SOCK_TYPE_MASK = 0xf;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOCK_MAX = 10;
const SOCKADDR_IN = 16;
const MSG_OOB = 0x1;
const MSG_PEEK = 0x2;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const MAX_MSG = 1 << 20;

/** The netstack of `t`'s sandbox. */
export function stackOf(t: Task): Stack {
  return stackFor(t.kernel);
}

interface InetSock {
  f: FileDescription;
  s: InetSocket;
}

function inetSockOf(t: Task, arg: bigint): InetSock | undefined {
  const f = t.files.get(int(arg));
  if (f === undefined) return undefined;
  const s = inetOf(f);
  return s === undefined ? undefined : { f, s };
}

/** A sockaddr_in of (addr, port). */
export function encodeSockaddrIn(addr: number, port: number): Uint8Array {
  const b = new Uint8Array(SOCKADDR_IN);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port);
  v.setUint32(4, addr >>> 0);
  return b;
}

interface InAddr {
  family: number;
  addr: number;
  port: number;
}

/** A sockaddr_in from the application: -EINVAL when shorter, -EFAULT. */
function copyInSockaddrIn(t: Task, addr: bigint, len: number): InAddr | number {
  if (len < 0 || len > 128) return -Errno.EINVAL;
  if (len < 2) return -Errno.EINVAL;
  const b = t.mem.copyIn(addr, Math.min(len, SOCKADDR_IN));
  if (typeof b === 'number') return b;
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const family = v.getUint16(0, true);
  if (family === AF_UNSPEC && len < SOCKADDR_IN) return { family, addr: 0, port: 0 };
  if (len < SOCKADDR_IN) return -Errno.EINVAL;
  return { family, port: v.getUint16(2), addr: v.getUint32(4) };
}

/** socket(2) for AF_INET: UDP and TCP. */
export function inetSocket(t: Task, domain: number, raw: number, protocol: number): number {
  const flags = raw & ~SOCK_TYPE_MASK;
  const type = raw & SOCK_TYPE_MASK;
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -Errno.EINVAL;
  if (type > SOCK_MAX) return -Errno.EINVAL;
  if (domain === AF_INET6) return -Errno.EAFNOSUPPORT;
  let s: InetSocket;
  if (type === SOCK_DGRAM) {
    if (protocol !== 0 && protocol !== IPPROTO_UDP) return -Errno.EPROTONOSUPPORT;
    s = new InetSocket(stackOf(t), SOCK_DGRAM, IPPROTO_UDP);
  } else if (type === SOCK_STREAM) {
    if (protocol !== 0 && protocol !== IPPROTO_TCP) return -Errno.EPROTONOSUPPORT;
    s = new InetSocket(stackOf(t), SOCK_STREAM, IPPROTO_TCP);
  } else return -Errno.ESOCKTNOSUPPORT;
  return installInet(t, s, flags);
}

function installInet(t: Task, s: InetSocket, flags: number): number {
  const e = inetSocketFile(s, peerCredOf(t));
  const nb = (flags & SOCK_NONBLOCK) !== 0 ? O_NONBLOCK : 0;
  const f = new FileDescription(e.inode, null, e.impl, O_RDWR | nb);
  const fd = t.files.install(f, (flags & SOCK_CLOEXEC) !== 0);
  if (fd < 0) f.decRef();
  return fd;
}

function bind(t: Task, a: readonly bigint[], k: InetSock): number {
  const sa = copyInSockaddrIn(t, a[1] ?? 0n, int(a[2] ?? 0n));
  if (typeof sa === 'number') return sa;
  if (sa.family !== AF_INET && !(sa.family === AF_UNSPEC && sa.addr === 0))
    return -Errno.EAFNOSUPPORT;
  if (sa.port !== 0 && sa.port < 1024 && !capable(t.creds, CAP_NET_BIND_SERVICE))
    return -Errno.EACCES;
  return (k.s.tcp ?? k.s.udp).bind(sa.addr, sa.port);
}

function listen(_t: Task, a: readonly bigint[], k: InetSock): number {
  const tcp = k.s.tcp;
  if (tcp === null) return -Errno.EOPNOTSUPP;
  let backlog = int(a[1] ?? 0n);
  if (backlog < 0 || backlog > SOMAXCONN) backlog = SOMAXCONN;
  return tcp.listen(backlog);
}

/**
 * TCP connect as __inet_stream_connect: a non-blocking socket answers EINPROGRESS once its SYN
 * is out (and EALREADY while the handshake runs, then 0 once), a blocking one waits for the
 * handshake (EINPROGRESS when SO_SNDTIMEO runs out); a refused or reset attempt answers its
 * error.
 */
function tcpConnect(t: Task, k: InetSock, tcp: TcpEndpoint, sa: InAddr): number {
  const nonblock = (k.f.flags & O_NONBLOCK) !== 0;
  if (tcp.sockState !== 'connecting') {
    const r = tcp.connect(sa.addr, sa.port);
    if (r < 0) return r;
    if (nonblock) return -Errno.EINPROGRESS;
  } else if (tcp.state === 'SYN_SENT' || tcp.state === 'SYN_RECV') {
    if (nonblock) return -Errno.EALREADY;
  }
  if (tcp.state === 'SYN_SENT' || tcp.state === 'SYN_RECV') {
    if (!t.mayWait(k.s.sndTimeoNs)) return -Errno.EINPROGRESS;
    t.waitOn(k.f, POLLOUT);
    return BLOCKED;
  }
  if (tcp.state === 'CLOSED') {
    tcp.sockState = 'unconnected';
    const e = tcp.takeError();
    return e !== 0 ? e : -Errno.ECONNABORTED;
  }
  tcp.sockState = 'connected';
  return 0;
}

function connect(t: Task, a: readonly bigint[], k: InetSock): number {
  const sa = copyInSockaddrIn(t, a[1] ?? 0n, int(a[2] ?? 0n));
  if (typeof sa === 'number') return sa;
  const tcp = k.s.tcp;
  if (sa.family === AF_UNSPEC) {
    if (tcp === null) {
      k.s.udp.disconnect();
      return 0;
    }
    return tcp.state === 'CLOSED' ? 0 : -Errno.EOPNOTSUPP;
  }
  if (sa.family !== AF_INET) return -Errno.EAFNOSUPPORT;
  if (tcp !== null) return tcpConnect(t, k, tcp, sa);
  return k.s.udp.connect(sa.addr, sa.port);
}

function accept4(t: Task, a: readonly bigint[], k: InetSock): number {
  const flags = int(a[3] ?? 0n);
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -Errno.EINVAL;
  const tcp = k.s.tcp;
  if (tcp === null) return -Errno.EOPNOTSUPP;
  const c = tcp.accept();
  if (typeof c === 'number') {
    if (c === -Errno.EAGAIN && (k.f.flags & O_NONBLOCK) === 0 && t.mayWait(k.s.rcvTimeoNs)) {
      t.waitOn(k.f, POLLIN);
      return BLOCKED;
    }
    return c;
  }
  const s = new InetSocket(stackOf(t), SOCK_STREAM, IPPROTO_TCP, c);
  for (const [key, v] of k.s.options) s.options.set(key, v);
  for (const [key, v] of k.s.tcpOptions) s.tcpOptions.set(key, v);
  const fd = installInet(t, s, flags);
  if (fd < 0) return fd;
  if ((a[1] ?? 0n) !== 0n) {
    const r = putAddr(t, a[1] ?? 0n, a[2] ?? 0n, encodeSockaddrIn(c.remoteAddr, c.remotePort));
    if (r < 0) {
      t.files.close(fd);
      return r;
    }
  }
  return fd;
}

function getsockname(t: Task, a: readonly bigint[], k: InetSock): number {
  const u = k.s.tcp ?? k.s.udp;
  return putAddr(t, a[1] ?? 0n, a[2] ?? 0n, encodeSockaddrIn(u.localAddr, u.localPort));
}

function getpeername(t: Task, a: readonly bigint[], k: InetSock): number {
  const tcp = k.s.tcp;
  if (tcp !== null) {
    const st = tcp.state;
    if (tcp.remotePort === 0 || st === 'CLOSED' || st === 'SYN_SENT' || st === 'LISTEN')
      return -Errno.ENOTCONN;
    return putAddr(t, a[1] ?? 0n, a[2] ?? 0n, encodeSockaddrIn(tcp.remoteAddr, tcp.remotePort));
  }
  const u = k.s.udp;
  if (!u.connected) return -Errno.ENOTCONN;
  return putAddr(t, a[1] ?? 0n, a[2] ?? 0n, encodeSockaddrIn(u.remoteAddr, u.remotePort));
}

function nonblocking(k: InetSock, flags: number): boolean {
  return (k.f.flags & O_NONBLOCK) !== 0 || (flags & MSG_DONTWAIT) !== 0;
}

/** One datagram to `to` (or the peer). A UDP send never waits: the loopback takes it at once. */
function sendData(
  t: Task,
  k: InetSock,
  data: Uint8Array,
  name: bigint,
  namelen: number,
  flags: number,
): number {
  if ((flags & MSG_OOB) !== 0) return -Errno.EOPNOTSUPP;
  let to: { addr: number; port: number } | null = null;
  if (name !== 0n && namelen !== 0) {
    const sa = copyInSockaddrIn(t, name, namelen);
    if (typeof sa === 'number') return sa;
    if (sa.family !== AF_INET && sa.family !== AF_UNSPEC) return -Errno.EAFNOSUPPORT;
    to = { addr: sa.addr, port: sa.port };
  }
  return k.s.udp.send(data, to);
}

/** Reads `n` bytes at offset `off` of the caller's data, or -EFAULT. */
type Reader = (off: number, n: number) => Uint8Array | number;

/**
 * A TCP send of `total` bytes read through `read` (the address, if any, is ignored as Linux
 * does): a blocking one goes on until all is queued, parking while the send buffer is full
 * (a signal ends it with the count so far); EPIPE raises SIGPIPE.
 */
function tcpSend(
  t: Task,
  k: InetSock,
  tcp: TcpEndpoint,
  total: number,
  read: Reader,
  flags: number,
): number {
  if ((flags & MSG_OOB) !== 0) return -Errno.EOPNOTSUPP;
  const nonblock = nonblocking(k, flags);
  let done = nonblock ? 0 : t.ioResume();
  for (;;) {
    const want = Math.min(total - done, tcp.sndbuf, MAX_MSG);
    const data = want === 0 ? new Uint8Array(0) : read(done, want);
    if (typeof data === 'number') return done > 0 ? done : data;
    const r = tcp.send(data);
    if (r >= 0) {
      done += r;
      if (nonblock || done >= total) return done;
      continue;
    }
    if (r === -Errno.EAGAIN && !nonblock && t.mayWait(k.s.sndTimeoNs)) {
      if (done > 0 && !t.ioPark(done)) return done;
      t.waitOn(k.f, POLLOUT);
      return BLOCKED;
    }
    if (done > 0) return done;
    if (r === -Errno.EPIPE && (flags & MSG_NOSIGNAL) === 0)
      sendSignal(t, { signo: SIGPIPE, code: 0, pid: t.tgid, uid: t.creds.uid });
    return r;
  }
}

/** A reader over iovecs (sendmsg). */
function iovReader(t: Task, iovs: readonly Iovec[]): Reader {
  return (off, n) => {
    const out = new Uint8Array(n);
    let at = 0;
    for (const v of iovs) {
      if (at >= n) break;
      if (off >= v.len) {
        off -= v.len;
        continue;
      }
      const take = Math.min(v.len - off, n - at);
      const b = t.mem.copyIn(v.base + BigInt(off), take);
      if (typeof b === 'number') return b;
      out.set(b, at);
      at += take;
      off = 0;
    }
    return out.subarray(0, at);
  };
}

function sendto(t: Task, a: readonly bigint[], k: InetSock): number {
  const tcp = k.s.tcp;
  if (tcp !== null) {
    const addr = a[1] ?? 0n;
    const total = Number(BigInt.asUintN(32, a[2] ?? 0n));
    return tcpSend(
      t,
      k,
      tcp,
      total,
      (off, n) => t.mem.copyIn(addr + BigInt(off), n),
      int(a[3] ?? 0n),
    );
  }
  const len = Math.min(Number(BigInt.asUintN(32, a[2] ?? 0n)), MAX_MSG);
  const data = len === 0 ? new Uint8Array(0) : t.mem.copyIn(a[1] ?? 0n, len);
  if (typeof data === 'number') return data;
  return sendData(t, k, data, a[4] ?? 0n, int(a[5] ?? 0n), int(a[3] ?? 0n));
}

function sendmsg(t: Task, a: readonly bigint[], k: InetSock): number {
  const h = readMsghdr(t, a[1] ?? 0n);
  if (typeof h === 'number') return h;
  // No control message is understood yet (IP_PKTINFO, IP_TOS…): refused, not ignored.
  if (h.controllen > 0) return -Errno.EINVAL;
  const tcp = k.s.tcp;
  if (tcp !== null) {
    let total = 0;
    for (const v of h.iovs) total += v.len;
    return tcpSend(t, k, tcp, total, iovReader(t, h.iovs), int(a[2] ?? 0n));
  }
  const data = gather(t, h.iovs);
  if (typeof data === 'number') return data;
  return sendData(t, k, data, h.name, h.namelen, int(a[2] ?? 0n));
}

/** What a receive moved: its bytes (already copied out by the sink) and its source. */
interface Got {
  n: number;
  /** A datagram's full length (MSG_TRUNC). */
  full: number;
  addr: number;
  port: number;
}

/** Copies a received part out to the caller at offset `at` of its buffer: 0 or -errno. */
type Sink = (data: Uint8Array, at: number) => number;

/** One datagram of up to `size` bytes (or stream bytes); parks a blocking caller meanwhile. */
function recvData(t: Task, k: InetSock, size: number, flags: number, sink: Sink): Got | number {
  if ((flags & MSG_OOB) !== 0) return -Errno.EOPNOTSUPP;
  const tcp = k.s.tcp;
  if (tcp !== null) return tcpRecv(t, k, tcp, size, flags, sink);
  const buf = new Uint8Array(Math.min(size, MAX_MSG, k.s.udp.readable()));
  const r = k.s.udp.recv(buf, (flags & MSG_PEEK) !== 0);
  if (typeof r === 'number') {
    if (r === -Errno.EAGAIN && !nonblocking(k, flags) && t.mayWait(k.s.rcvTimeoNs)) {
      t.waitOn(k.f, POLLIN);
      return BLOCKED;
    }
    return r;
  }
  if (r.n > 0) {
    const c = sink(buf.subarray(0, r.n), 0);
    if (c < 0) return c;
  }
  return { n: r.n, full: r.full, addr: r.addr, port: r.port };
}

/**
 * A TCP receive: what is there (no source address); under MSG_WAITALL a blocking receive goes
 * on until `size` bytes, the end of the stream, an error or a signal.
 */
function tcpRecv(
  t: Task,
  k: InetSock,
  tcp: TcpEndpoint,
  size: number,
  flags: number,
  sink: Sink,
): Got | number {
  const nonblock = nonblocking(k, flags);
  const peek = (flags & MSG_PEEK) !== 0;
  const waitall = (flags & MSG_WAITALL) !== 0 && !peek && !nonblock;
  let done = waitall ? t.ioResume() : 0;
  const result = (): Got => ({ n: done, full: done, addr: 0, port: 0 });
  for (;;) {
    const buf = new Uint8Array(Math.min(size - done, MAX_MSG, tcp.readable()));
    const r = size - done === 0 ? 0 : tcp.recv(buf, peek);
    if (r < 0) {
      if (r === -Errno.EAGAIN && !nonblock && t.mayWait(k.s.rcvTimeoNs)) {
        if (done > 0 && !t.ioPark(done)) return result();
        t.waitOn(k.f, POLLIN);
        return BLOCKED;
      }
      return done > 0 ? result() : r;
    }
    if (r > 0) {
      const c = sink(buf.subarray(0, r), done);
      if (c < 0) return done > 0 ? result() : c;
    }
    done += r;
    if (!waitall || done >= size || r === 0) return result();
  }
}

/** The source a receive reports: a UDP datagram's sender; nothing for TCP, as Linux. */
function sourceOf(k: InetSock, r: Got): Uint8Array {
  return k.s.tcp !== null ? new Uint8Array(0) : encodeSockaddrIn(r.addr, r.port);
}

function recvfrom(t: Task, a: readonly bigint[], k: InetSock): number {
  const flags = int(a[3] ?? 0n);
  const buf = a[1] ?? 0n;
  const r = recvData(t, k, Number(BigInt.asUintN(32, a[2] ?? 0n)), flags, (data, at) =>
    t.mem.copyOut(buf + BigInt(at), data),
  );
  if (typeof r === 'number') return r;
  if ((a[4] ?? 0n) !== 0n) {
    const c = putAddr(t, a[4] ?? 0n, a[5] ?? 0n, sourceOf(k, r));
    if (c < 0) return c;
  }
  return answered(k, r, flags);
}

/** A receive's result: its length, the full datagram's under MSG_TRUNC (UDP). */
function answered(k: InetSock, r: Got, flags: number): number {
  return k.s.tcp === null && (flags & MSG_TRUNC) !== 0 ? r.full : r.n;
}

function recvmsg(t: Task, a: readonly bigint[], k: InetSock): number {
  const hdr = a[1] ?? 0n;
  const h: MsgHdr | number = readMsghdr(t, hdr);
  if (typeof h === 'number') return h;
  const flags = int(a[2] ?? 0n);
  let size = 0;
  for (const v of h.iovs) size += v.len;
  const r = recvData(t, k, size, flags, (data, at) => scatter(t, h.iovs, data, at));
  if (typeof r === 'number') return r;
  const trunc = k.s.tcp === null && r.full > r.n ? MSG_TRUNC : 0;
  const c = finishMsghdr(t, hdr, h, sourceOf(k, r), 0, trunc);
  if (c < 0) return c;
  return answered(k, r, flags);
}

function shutdown(_t: Task, a: readonly bigint[], k: InetSock): number {
  const how = int(a[1] ?? 0n);
  if (how < 0 || how > 2) return -Errno.EINVAL;
  return (k.s.tcp ?? k.s.udp).shutdown(how);
}

type InetHandler = (t: Task, a: readonly bigint[], k: InetSock) => number;

/** What each socket call does on an AF_INET (UDP) socket. */
const INET: ReadonlyMap<number, InetHandler> = new Map<number, InetHandler>([
  [49, bind],
  [42, connect],
  [51, getsockname],
  [52, getpeername],
  [44, sendto],
  [46, sendmsg],
  [45, recvfrom],
  [47, recvmsg],
  [48, shutdown],
  [50, listen],
  [43, (t, a, k) => accept4(t, [a[0] ?? 0n, a[1] ?? 0n, a[2] ?? 0n, 0n], k)],
  [288, accept4],
]);

const INET_NOTE =
  'AF_INET: UDP and TCP over loopback (the netstack; no retransmission timer, keepalive probes or urgent data); no IPv6 yet';

/**
 * The socket calls with AF_INET sockets routed to the netstack: `socket` by its domain, the
 * others by what their fd is.
 */
export function withInet(
  unix: ReadonlyMap<number, SyscallEntry<Task>>,
): ReadonlyMap<number, SyscallEntry<Task>> {
  const out = new Map(unix);
  for (const [nr, e] of unix) {
    const inet = INET.get(nr);
    if (nr === 41) {
      const h: SyscallHandler<Task> = (t, a) => {
        const domain = int(a[0] ?? 0n);
        return domain === AF_INET || domain === AF_INET6
          ? inetSocket(t, domain, int(a[1] ?? 0n), int(a[2] ?? 0n))
          : e.handler(t, a);
      };
      out.set(nr, { ...e, handler: h, note: `${e.note ?? ''}; ${INET_NOTE}` });
    } else if (inet !== undefined) {
      const h: SyscallHandler<Task> = (t, a) => {
        const k = inetSockOf(t, a[0] ?? 0n);
        return k === undefined ? e.handler(t, a) : inet(t, a, k);
      };
      out.set(nr, { ...e, handler: h, note: `${e.note ?? ''}; ${INET_NOTE}` });
    }
  }
  return out;
}
