// The socket calls on AF_INET sockets, served by the Sentry's netstack (net/stack/): UDP over
// the loopback interface for now — socket, bind (ephemeral ports, SO_REUSEADDR, ports below
// 1024 with CAP_NET_BIND_SERVICE), connect (AF_UNSPEC dissolves), sendto/sendmsg,
// recvfrom/recvmsg with the source as sockaddr_in, getsockname/getpeername, shutdown.
// `withInet` routes each call to these handlers when its fd is an AF_INET socket and to the
// Unix ones otherwise. SOCK_STREAM (TCP) and IPv6 are not there yet: ESOCKTNOSUPPORT and
// EAFNOSUPPORT. Never trusts a pointer or a length from the application; packets never reach
// the host.

import { CAP_NET_BIND_SERVICE } from '../../abi/linux/capability.js';
import { Errno } from '../../abi/linux/errno.js';
import { O_NONBLOCK, O_RDWR, POLLIN } from '../../abi/linux/file.js';
import { BLOCKED } from '../kernel/block.js';
import { capable } from '../kernel/credentials.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/task.js';
import { AF_INET, IPPROTO_UDP, InetSocket, inetOf, inetSocketFile } from '../net/inet_socket.js';
import { Stack } from '../net/stack/stack.js';
import { FileDescription } from '../vfs/file_description.js';
import { int } from './args.js';
import { gather, readMsghdr, scatter } from './sys_socket.js';
import { intBytes, putAddr } from './sys_socket_addr.js';
import { peerCredOf } from './sys_socket_conn.js';
import type { SyscallEntry, SyscallHandler } from './types.js';

const AF_UNSPEC = 0;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
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

const stacks = new WeakMap<Kernel, Stack>();

/** The netstack of `t`'s sandbox. */
export function stackOf(t: Task): Stack {
  let s = stacks.get(t.kernel);
  if (s === undefined) {
    s = new Stack();
    stacks.set(t.kernel, s);
  }
  return s;
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

/** socket(2) for AF_INET: UDP datagram sockets. */
export function inetSocket(t: Task, domain: number, raw: number, protocol: number): number {
  const flags = raw & ~SOCK_TYPE_MASK;
  const type = raw & SOCK_TYPE_MASK;
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -Errno.EINVAL;
  if (type > SOCK_MAX) return -Errno.EINVAL;
  if (domain === AF_INET6) return -Errno.EAFNOSUPPORT;
  if (type !== SOCK_DGRAM) return -Errno.ESOCKTNOSUPPORT;
  if (protocol !== 0 && protocol !== IPPROTO_UDP) return -Errno.EPROTONOSUPPORT;
  const s = new InetSocket(stackOf(t), SOCK_DGRAM, IPPROTO_UDP);
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
  return k.s.udp.bind(sa.addr, sa.port);
}

function connect(t: Task, a: readonly bigint[], k: InetSock): number {
  const sa = copyInSockaddrIn(t, a[1] ?? 0n, int(a[2] ?? 0n));
  if (typeof sa === 'number') return sa;
  if (sa.family === AF_UNSPEC) {
    k.s.udp.disconnect();
    return 0;
  }
  if (sa.family !== AF_INET) return -Errno.EAFNOSUPPORT;
  return k.s.udp.connect(sa.addr, sa.port);
}

function getsockname(t: Task, a: readonly bigint[], k: InetSock): number {
  const u = k.s.udp;
  return putAddr(t, a[1] ?? 0n, a[2] ?? 0n, encodeSockaddrIn(u.localAddr, u.localPort));
}

function getpeername(t: Task, a: readonly bigint[], k: InetSock): number {
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

function sendto(t: Task, a: readonly bigint[], k: InetSock): number {
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
  const data = gather(t, h.iovs);
  if (typeof data === 'number') return data;
  return sendData(t, k, data, h.name, h.namelen, int(a[2] ?? 0n));
}

interface Got {
  data: Uint8Array;
  full: number;
  addr: number;
  port: number;
}

/** One datagram of up to `size` bytes; parks a blocking caller while none is there. */
function recvData(t: Task, k: InetSock, size: number, flags: number): Got | number {
  if ((flags & MSG_OOB) !== 0) return -Errno.EOPNOTSUPP;
  const buf = new Uint8Array(Math.min(size, MAX_MSG, k.s.udp.readable()));
  const r = k.s.udp.recv(buf, (flags & MSG_PEEK) !== 0);
  if (typeof r === 'number') {
    if (r === -Errno.EAGAIN && !nonblocking(k, flags) && t.mayWait(k.s.rcvTimeoNs)) {
      t.waitOn(k.f, POLLIN);
      return BLOCKED;
    }
    return r;
  }
  return { data: buf.subarray(0, r.n), full: r.full, addr: r.addr, port: r.port };
}

function recvfrom(t: Task, a: readonly bigint[], k: InetSock): number {
  const flags = int(a[3] ?? 0n);
  const r = recvData(t, k, Number(BigInt.asUintN(32, a[2] ?? 0n)), flags);
  if (typeof r === 'number') return r;
  if (r.data.length > 0) {
    const c = t.mem.copyOut(a[1] ?? 0n, r.data);
    if (c < 0) return c;
  }
  if ((a[4] ?? 0n) !== 0n) {
    const c = putAddr(t, a[4] ?? 0n, a[5] ?? 0n, encodeSockaddrIn(r.addr, r.port));
    if (c < 0) return c;
  }
  return (flags & MSG_TRUNC) !== 0 ? r.full : r.data.length;
}

function recvmsg(t: Task, a: readonly bigint[], k: InetSock): number {
  const hdr = a[1] ?? 0n;
  const h = readMsghdr(t, hdr);
  if (typeof h === 'number') return h;
  const flags = int(a[2] ?? 0n);
  let size = 0;
  for (const v of h.iovs) size += v.len;
  const r = recvData(t, k, size, flags);
  if (typeof r === 'number') return r;
  let c = scatter(t, h.iovs, r.data);
  if (c < 0) return c;
  if (h.name !== 0n) {
    const src = encodeSockaddrIn(r.addr, r.port);
    const n = Math.min(h.namelen, src.length);
    if (n > 0) {
      c = t.mem.copyOut(h.name, src.subarray(0, n));
      if (c < 0) return c;
    }
    c = t.mem.copyOut(hdr + 8n, intBytes(src.length));
    if (c < 0) return c;
  }
  c = t.mem.copyOut(hdr + 40n, new Uint8Array(8));
  if (c < 0) return c;
  c = t.mem.copyOut(hdr + 48n, intBytes(r.full > r.data.length ? MSG_TRUNC : 0));
  if (c < 0) return c;
  return (flags & MSG_TRUNC) !== 0 ? r.full : r.data.length;
}

function shutdown(_t: Task, a: readonly bigint[], k: InetSock): number {
  const how = int(a[1] ?? 0n);
  if (how < 0 || how > 2) return -Errno.EINVAL;
  return k.s.udp.shutdown(how);
}

function refuse(): number {
  return -Errno.EOPNOTSUPP;
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
  [50, refuse], // listen
  [43, refuse], // accept
  [288, refuse], // accept4
]);

const INET_NOTE = 'AF_INET: UDP over loopback (the netstack); no TCP or IPv6 yet';

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
