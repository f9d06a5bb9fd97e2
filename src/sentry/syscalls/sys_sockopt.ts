// getsockopt(2) and setsockopt(2) at SOL_SOCKET for Unix sockets, as Linux's sk_getsockopt
// and sk_setsockopt: the read-only facts (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN,
// SO_PEERCRED, SO_ERROR which it also clears), the buffer sizes (doubled, within Linux's
// bounds; the FORCE forms with CAP_NET_ADMIN), SO_PASSCRED, the receive and send timeouts
// (which end a blocking call with EAGAIN), and the options Linux keeps but a Unix socket does
// not use (SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER, …), kept and reported back. Anything else
// answers ENOPROTOOPT, never a pretended success. Never trusts a pointer or a length.

import { CAP_NET_ADMIN } from '../../abi/linux/capability.js';
import { Errno } from '../../abi/linux/errno.js';
import { capable } from '../kernel/credentials.js';
import type { Task } from '../kernel/task.js';
import { endpointOf } from '../net/unix_socket.js';
import { InetSocket, inetOf } from '../net/inet_socket.js';
import { AF_UNIX } from '../net/unix_names.js';
import { SOCKBUF_MAX, type PeerCred } from '../net/unix_socket.js';
import { int, uint } from './args.js';
import { intBytes } from './sys_socket_addr.js';
import type { SyscallEntry } from './types.js';

const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_TYPE = 3;
const SO_ERROR = 4;
const SO_DONTROUTE = 5;
const SO_BROADCAST = 6;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_KEEPALIVE = 9;
const SO_OOBINLINE = 10;
const SO_PRIORITY = 12;
const SO_REUSEPORT = 15;
const SO_LINGER = 13;
const SO_PASSCRED = 16;
const SO_PEERCRED = 17;
const SO_RCVLOWAT = 18;
const SO_SNDLOWAT = 19;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;
const SO_ACCEPTCONN = 30;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SO_PROTOCOL = 38;
const SO_DOMAIN = 39;
const SOCK_MIN_SNDBUF = 4608;
const SOCK_MIN_RCVBUF = 2304;
/** Options kept as a boolean (any non-zero value reads back as 1). */
const BOOLEAN_OPTS = new Set([
  SO_REUSEADDR,
  SO_DONTROUTE,
  SO_BROADCAST,
  SO_KEEPALIVE,
  SO_OOBINLINE,
]);
const NS_PER_US = 1000n;
const US_PER_S = 1_000_000n;

/** What the options act on: a Unix endpoint or an AF_INET socket (both have these). */
interface Target {
  readonly type: number;
  readonly domain: number;
  readonly protocol: number;
  readonly listening: boolean;
  sndbuf: number;
  rcvbuf: number;
  passcred: boolean;
  readonly options: Map<number, number | readonly [number, number]>;
  rcvTimeoNs: bigint;
  sndTimeoNs: bigint;
  readonly peerCred: PeerCred | null;
  takeError(): number;
  notify(): void;
  /** SO_REUSEADDR changed (the stack's port table uses it). */
  reuse?(on: boolean): void;
}

/** The socket behind fd `arg`, or -EBADF / -ENOTSOCK. */
function targetOf(t: Task, arg: bigint): Target | number {
  const f = t.files.getFile(int(arg));
  if (typeof f === 'number') return f;
  return endpointOf(f) ?? inetOf(f) ?? -Errno.ENOTSOCK;
}

/** The TCP socket behind a target, for IPPROTO_TCP options. */
function tcpOf(ep: Target): InetSocket | undefined {
  return ep instanceof InetSocket && ep.tcp !== null ? ep : undefined;
}

const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const TCP_MAXSEG = 2;
const TCP_KEEPIDLE = 4;
const TCP_KEEPINTVL = 5;
const TCP_KEEPCNT = 6;
/** tcp_keepalive_time, _intvl, _probes: what the keepalive options read before being set. */
const TCP_DEFAULTS = new Map([
  [TCP_KEEPIDLE, 7200],
  [TCP_KEEPINTVL, 75],
  [TCP_KEEPCNT, 9],
]);
const TCP_MAX = new Map([
  [TCP_KEEPIDLE, 32767],
  [TCP_KEEPINTVL, 32767],
  [TCP_KEEPCNT, 127],
]);

/**
 * IPPROTO_TCP options: TCP_NODELAY (segments already leave at once), TCP_MAXSEG (read), the
 * keepalive timings (kept; no probe is sent yet). Others ENOPROTOOPT.
 */
function tcpOption(
  t: Task,
  s: InetSocket,
  name: number,
  set: { optval: bigint; optlen: number } | null,
  out: { optval: bigint; optlen: bigint },
): number {
  const tcp = s.tcp;
  if (tcp === null) return -Errno.ENOPROTOOPT;
  if (name !== TCP_NODELAY && name !== TCP_MAXSEG && !TCP_DEFAULTS.has(name))
    return -Errno.ENOPROTOOPT;
  if (set === null) {
    let v: number;
    if (name === TCP_NODELAY) v = tcp.noDelay ? 1 : 0;
    else if (name === TCP_MAXSEG)
      v = tcp.state === 'CLOSED' || tcp.state === 'LISTEN' ? 536 : 65483;
    else v = s.tcpOptions.get(name) ?? TCP_DEFAULTS.get(name) ?? 0;
    return putOption(t, out.optval, out.optlen, intBytes(v));
  }
  if (set.optlen < 4) return -Errno.EINVAL;
  const b = t.mem.copyIn(set.optval, 4);
  if (typeof b === 'number') return b;
  const v = new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
  if (name === TCP_NODELAY) {
    tcp.noDelay = v !== 0;
    return 0;
  }
  if (name === TCP_MAXSEG) return v < 88 || v > 65535 ? -Errno.EINVAL : 0;
  if (v < 1 || v > (TCP_MAX.get(name) ?? 0)) return -Errno.EINVAL;
  s.tcpOptions.set(name, v);
  return 0;
}

/** Copies out an option of `value` bytes through (optval, optlen), as sock_getsockopt. */
function putOption(t: Task, optval: bigint, optlenAddr: bigint, value: Uint8Array): number {
  const lb = t.mem.copyIn(optlenAddr, 4);
  if (typeof lb === 'number') return lb;
  const len = new DataView(lb.buffer, lb.byteOffset, 4).getInt32(0, true);
  if (len < 0) return -Errno.EINVAL;
  const n = Math.min(len, value.length);
  if (n > 0) {
    const r = t.mem.copyOut(optval, value.subarray(0, n));
    if (r < 0) return r;
  }
  const r = t.mem.copyOut(optlenAddr, intBytes(n));
  return r < 0 ? r : 0;
}

function pairBytes(a: number, b: number): Uint8Array {
  const v = new Uint8Array(8);
  const d = new DataView(v.buffer);
  d.setInt32(0, a, true);
  d.setInt32(4, b, true);
  return v;
}

/** A timeout as struct timeval (sock_get_timeout). */
function timevalBytes(ns: bigint): Uint8Array {
  const us = ns / NS_PER_US;
  const v = new Uint8Array(16);
  const d = new DataView(v.buffer);
  d.setBigInt64(0, us / US_PER_S, true);
  d.setBigInt64(8, us % US_PER_S, true);
  return v;
}

/** Implements Linux syscall getsockopt(2): the SOL_SOCKET options of a Unix socket. */
function getsockopt(t: Task, a: readonly bigint[]): number {
  const ep = targetOf(t, a[0] ?? 0n);
  if (typeof ep === 'number') return ep;
  const level = int(a[1] ?? 0n);
  const tcp = tcpOf(ep);
  if (level === IPPROTO_TCP && tcp !== undefined)
    return tcpOption(t, tcp, int(a[2] ?? 0n), null, { optval: a[3] ?? 0n, optlen: a[4] ?? 0n });
  if (level !== SOL_SOCKET) return ep.domain === AF_UNIX ? -Errno.EOPNOTSUPP : -Errno.ENOPROTOOPT;
  const name = int(a[2] ?? 0n);
  let value: Uint8Array;
  switch (name) {
    case SO_TYPE:
      value = intBytes(ep.type);
      break;
    case SO_DOMAIN:
      value = intBytes(ep.domain);
      break;
    case SO_PROTOCOL:
      value = intBytes(ep.protocol);
      break;
    case SO_ERROR:
      value = intBytes(-ep.takeError());
      break;
    case SO_ACCEPTCONN:
      value = intBytes(ep.listening ? 1 : 0);
      break;
    case SO_SNDBUF:
      value = intBytes(ep.sndbuf);
      break;
    case SO_RCVBUF:
      value = intBytes(ep.rcvbuf);
      break;
    case SO_PASSCRED:
      value = intBytes(ep.passcred ? 1 : 0);
      break;
    case SO_SNDLOWAT:
      value = intBytes(1);
      break;
    case SO_RCVLOWAT: {
      const v = ep.options.get(name);
      value = intBytes(typeof v === 'number' ? v : 1);
      break;
    }
    case SO_LINGER: {
      const v = ep.options.get(name);
      value = typeof v === 'object' ? pairBytes(v[0], v[1]) : pairBytes(0, 0);
      break;
    }
    case SO_RCVTIMEO:
      value = timevalBytes(ep.rcvTimeoNs);
      break;
    case SO_SNDTIMEO:
      value = timevalBytes(ep.sndTimeoNs);
      break;
    case SO_PEERCRED: {
      const cred = ep.peerCred ?? { pid: 0, uid: 0xffffffff, gid: 0xffffffff };
      value = new Uint8Array(12);
      const v = new DataView(value.buffer);
      v.setInt32(0, cred.pid, true);
      v.setUint32(4, cred.uid, true);
      v.setUint32(8, cred.gid, true);
      break;
    }
    default: {
      if (!BOOLEAN_OPTS.has(name) && name !== SO_PRIORITY && name !== SO_REUSEPORT)
        return -Errno.ENOPROTOOPT;
      const v = ep.options.get(name);
      value = intBytes(typeof v === 'number' ? v : 0);
    }
  }
  return putOption(t, a[3] ?? 0n, a[4] ?? 0n, value);
}

/** A struct timeval timeout from the application in ns (sock_set_timeout), or -errno. */
function readTimeout(t: Task, addr: bigint, len: number): bigint | number {
  if (len < 16) return -Errno.EINVAL;
  const b = t.mem.copyIn(addr, 16);
  if (typeof b === 'number') return b;
  const d = new DataView(b.buffer, b.byteOffset, 16);
  const sec = d.getBigInt64(0, true);
  const usec = d.getBigInt64(8, true);
  if (usec < 0n || usec >= US_PER_S) return -Errno.EDOM;
  if (sec < 0n) return 0n;
  return (sec * US_PER_S + usec) * NS_PER_US;
}

/** Implements Linux syscall setsockopt(2): the SOL_SOCKET options of a Unix socket. */
function setsockopt(t: Task, a: readonly bigint[]): number {
  const ep = targetOf(t, a[0] ?? 0n);
  if (typeof ep === 'number') return ep;
  const level = int(a[1] ?? 0n);
  const name = int(a[2] ?? 0n);
  const optval = a[3] ?? 0n;
  const optlen = uint(a[4] ?? 0n);
  const tcp = tcpOf(ep);
  if (level === IPPROTO_TCP && tcp !== undefined)
    return tcpOption(t, tcp, name, { optval, optlen }, { optval: 0n, optlen: 0n });
  if (level !== SOL_SOCKET) return ep.domain === AF_UNIX ? -Errno.EOPNOTSUPP : -Errno.ENOPROTOOPT;
  if (name === SO_RCVTIMEO || name === SO_SNDTIMEO) {
    const ns = readTimeout(t, optval, optlen);
    if (typeof ns === 'number') return ns;
    if (name === SO_RCVTIMEO) ep.rcvTimeoNs = ns;
    else ep.sndTimeoNs = ns;
    return 0;
  }
  if (name === SO_LINGER) {
    if (optlen < 8) return -Errno.EINVAL;
    const b = t.mem.copyIn(optval, 8);
    if (typeof b === 'number') return b;
    const d = new DataView(b.buffer, b.byteOffset, 8);
    const on = d.getInt32(0, true) !== 0 ? 1 : 0;
    ep.options.set(name, [on, on === 0 ? 0 : Math.max(0, d.getInt32(4, true))]);
    return 0;
  }
  if (optlen < 4) return -Errno.EINVAL;
  const b = t.mem.copyIn(optval, 4);
  if (typeof b === 'number') return b;
  const v = new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
  // Doubled for the kernel's bookkeeping, within [minimum, 2 * maximum] (the FORCE forms:
  // no maximum), as sk_setsockopt.
  const size = (min: number, max: number): number =>
    Math.max(min, Math.min(Math.max(v, 0), max) * 2);
  const force = name === SO_SNDBUFFORCE || name === SO_RCVBUFFORCE;
  if (force && !capable(t.creds, CAP_NET_ADMIN)) return -Errno.EPERM;
  switch (name) {
    case SO_SNDBUFFORCE:
    case SO_RCVBUFFORCE:
    case SO_SNDBUF:
    case SO_RCVBUF: {
      const max = name === SO_SNDBUF || name === SO_RCVBUF ? SOCKBUF_MAX : 0x3fffffff;
      if (name === SO_SNDBUF || name === SO_SNDBUFFORCE) {
        ep.sndbuf = size(SOCK_MIN_SNDBUF, max);
        ep.notify();
      } else ep.rcvbuf = size(SOCK_MIN_RCVBUF, max);
      return 0;
    }
    case SO_PASSCRED:
      ep.passcred = v !== 0;
      return 0;
    case SO_REUSEPORT:
      // Linux allows it on inet sockets only (where the netstack does not balance yet: it is
      // refused there too rather than pretended); turning it off is always accepted.
      return v !== 0 ? -Errno.EOPNOTSUPP : 0;
    case SO_PRIORITY:
      if ((v < 0 || v > 6) && !capable(t.creds, CAP_NET_ADMIN)) return -Errno.EPERM;
      ep.options.set(name, v);
      return 0;
    case SO_RCVLOWAT:
      ep.options.set(name, v < 0 ? 0x7fffffff : v === 0 ? 1 : v);
      return 0;
    default:
      if (!BOOLEAN_OPTS.has(name)) return -Errno.ENOPROTOOPT;
      ep.options.set(name, v !== 0 ? 1 : 0);
      if (name === SO_REUSEADDR) ep.reuse?.(v !== 0);
      return 0;
  }
}

const NOTE =
  'SOL_SOCKET: buffer sizes, SO_PASSCRED, timeouts, SO_REUSEADDR; SO_KEEPALIVE, SO_LINGER and the like kept without effect (as Linux for Unix sockets; on TCP no keepalive probe is sent and a zero SO_LINGER does not reset); IPPROTO_TCP: TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE/INTVL/CNT (kept); others ENOPROTOOPT';

export const sockoptSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [54, { name: 'setsockopt', handler: setsockopt, support: 'partial', note: NOTE }],
  [55, { name: 'getsockopt', handler: getsockopt, support: 'partial', note: NOTE }],
]);
