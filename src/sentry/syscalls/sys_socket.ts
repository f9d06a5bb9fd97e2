// Socket system calls over connected Unix domain sockets (net/unix_pair.ts): socketpair,
// send/recv in all their forms (sendto, recvfrom, sendmsg, recvmsg with SCM_RIGHTS),
// shutdown, getsockopt/setsockopt for the socket-level options a Unix socket has, and
// getsockname/getpeername. Checks in Linux's order: the fd (EBADF), a socket (ENOTSOCK), then
// the arguments. socket(2), bind, listen, connect and accept are not implemented yet (ENOSYS).
//
// A reader with SO_PASSCRED gets SCM_CREDENTIALS: the sender's own, or those it gave and may
// claim (scm_check_creds). Deliberate differences: a blocking stream send returns once part
// of the data is queued (callers loop, as sendall does); MSG_WAITALL returns what is there;
// MSG_OOB is EOPNOTSUPP. Never trusts a pointer or a length from the application.

import { CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN } from '../../abi/linux/capability.js';
import { Errno } from '../../abi/linux/errno.js';
import { capable } from '../kernel/credentials.js';
import { O_NONBLOCK, O_RDWR, POLLIN, POLLOUT, UIO_MAXIOV } from '../../abi/linux/file.js';
import { BLOCKED } from '../kernel/block.js';
import { sendSignal } from '../kernel/signals.js';
import type { Task } from '../kernel/task.js';
import {
  SOCKBUF_MAX,
  SOCK_DGRAM,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  type PeerCred,
  type Received as Got,
  type UnixEndpoint,
  endpointOf,
  newUnixPair,
} from '../net/unix_pair.js';
import { FileDescription } from '../vfs/file_description.js';
import { int, uint } from './args.js';
import { type Iovec, copyInIovecs } from './sys_file_common.js';
import type { SyscallEntry } from './types.js';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_RAW = 3;
const SOCK_MAX = 10;
const SOCK_TYPE_MASK = 0xf;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
/** The most descriptions one message may carry (SCM_MAX_FD). */
const SCM_MAX_FD = 253;
const MSG_OOB = 0x1;
const MSG_PEEK = 0x2;
const MSG_CTRUNC = 0x8;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SIGPIPE = 13;
const SI_USER = 0;

const SO_TYPE = 3;
const SO_ERROR = 4;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_PASSCRED = 16;
const SO_PEERCRED = 17;
const SO_ACCEPTCONN = 30;
const SO_PROTOCOL = 38;
const SO_DOMAIN = 39;
const SOCK_MIN_SNDBUF = 4608;
const SOCK_MIN_RCVBUF = 2304;
/** The most one send or receive moves through the Sentry at once. */
const MAX_MSG = 1 << 20;

/** The socket behind fd `arg`, or -EBADF / -ENOTSOCK. */
function socketOf(t: Task, arg: bigint): { f: FileDescription; ep: UnixEndpoint } | number {
  const f = t.files.getFile(int(arg));
  if (typeof f === 'number') return f;
  const ep = endpointOf(f);
  return ep === undefined ? -Errno.ENOTSOCK : { f, ep };
}

/** Implements Linux syscall socketpair(2) for AF_UNIX (stream, datagram, seqpacket). */
function socketpair(t: Task, a: readonly bigint[]): number {
  const domain = int(a[0] ?? 0n);
  const rawType = int(a[1] ?? 0n);
  const protocol = int(a[2] ?? 0n);
  const flags = rawType & ~SOCK_TYPE_MASK;
  let type = rawType & SOCK_TYPE_MASK;
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0 || type < 1 || type > SOCK_MAX)
    return -Errno.EINVAL;
  if (domain === AF_INET || domain === AF_INET6) return -Errno.EOPNOTSUPP;
  if (domain !== AF_UNIX) return -Errno.EAFNOSUPPORT;
  if (protocol !== 0 && protocol !== AF_UNIX) return -Errno.EPROTONOSUPPORT;
  if (type === SOCK_RAW) type = SOCK_DGRAM;
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET)
    return -Errno.ESOCKTNOSUPPORT;
  const cred = { pid: t.tgid, uid: t.creds.euid, gid: t.creds.egid };
  const nb = (flags & SOCK_NONBLOCK) !== 0 ? O_NONBLOCK : 0;
  const ends = newUnixPair(type, cred).map(
    (e) => new FileDescription(e.inode, null, e.impl, O_RDWR | nb),
  );
  const [x, y] = ends;
  if (x === undefined || y === undefined) return -Errno.ENOMEM;
  const cloexec = (flags & SOCK_CLOEXEC) !== 0;
  const fx = t.files.install(x, cloexec);
  if (fx < 0) {
    x.decRef();
    y.decRef();
    return fx;
  }
  const fy = t.files.install(y, cloexec);
  if (fy < 0) {
    y.decRef();
    t.files.close(fx);
    return fy;
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setInt32(0, fx, true);
  new DataView(out.buffer).setInt32(4, fy, true);
  const r = t.mem.copyOut(a[3] ?? 0n, out);
  if (r < 0) {
    t.files.close(fx);
    t.files.close(fy);
    return r;
  }
  return 0;
}

/** Gathers the iovecs' bytes (at most MAX_MSG) from application memory. */
function gather(t: Task, iovs: Iovec[]): Uint8Array | number {
  let total = 0;
  for (const v of iovs) total += v.len;
  const buf = new Uint8Array(Math.min(total, MAX_MSG));
  let at = 0;
  for (const v of iovs) {
    if (at >= buf.length) break;
    const n = Math.min(v.len, buf.length - at);
    if (n === 0) continue;
    const b = t.mem.copyIn(v.base, n);
    if (typeof b === 'number') return b;
    buf.set(b, at);
    at += n;
  }
  return buf;
}

/** Scatters `data` over the iovecs; -EFAULT when one is bad. */
function scatter(t: Task, iovs: Iovec[], data: Uint8Array): number {
  let at = 0;
  for (const v of iovs) {
    if (at >= data.length) break;
    const n = Math.min(v.len, data.length - at);
    if (n === 0) continue;
    const r = t.mem.copyOut(v.base, data.subarray(at, at + n));
    if (r < 0) return r;
    at += n;
  }
  return 0;
}

/** Who a message from `t` comes from (SCM_CREDENTIALS: the process, real ids). */
function senderCred(t: Task): PeerCred {
  return { pid: t.tgid, uid: t.creds.uid, gid: t.creds.gid };
}

/** One send: parks a blocking caller while the peer's queue is full; SIGPIPE on EPIPE. */
function sendData(
  t: Task,
  s: { f: FileDescription; ep: UnixEndpoint },
  data: Uint8Array,
  rights: FileDescription[],
  flags: number,
  cred: PeerCred = senderCred(t),
): number {
  if ((flags & MSG_OOB) !== 0) return -Errno.EOPNOTSUPP;
  for (const f of rights) f.incRef();
  const r = s.ep.send(data, rights, cred);
  if (r >= 0) return r;
  for (const f of rights) f.decRef();
  const nonblock = (s.f.flags & O_NONBLOCK) !== 0 || (flags & MSG_DONTWAIT) !== 0;
  if (r === -Errno.EAGAIN && !nonblock) {
    t.waitOn?.(s.f, POLLOUT);
    return BLOCKED;
  }
  if (r === -Errno.EPIPE && (flags & MSG_NOSIGNAL) === 0)
    sendSignal(t, { signo: SIGPIPE, code: SI_USER, pid: t.tgid, uid: t.creds.uid });
  return r;
}

/** A destination address on a connected Unix socket: there is no socket bound by name. */
function addressed(ep: UnixEndpoint, addr: bigint): number {
  if (addr === 0n) return 0;
  return ep.type === SOCK_DGRAM ? -Errno.ENOENT : -Errno.EISCONN;
}

/** Implements Linux syscall sendto(2) (send(2)). */
function sendto(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const bad = addressed(s.ep, a[4] ?? 0n);
  if (bad < 0) return bad;
  const len = Math.min(Number(BigInt.asUintN(32, a[2] ?? 0n)), MAX_MSG);
  const data = len === 0 ? new Uint8Array(0) : t.mem.copyIn(a[1] ?? 0n, len);
  if (typeof data === 'number') return data;
  return sendData(t, s, data, [], int(a[3] ?? 0n));
}

interface MsgHdr {
  name: bigint;
  iovs: Iovec[];
  control: bigint;
  controllen: number;
}

/** struct msghdr from the application: its name, iovecs and control buffer. */
function readMsghdr(t: Task, addr: bigint): MsgHdr | number {
  const b = t.mem.copyIn(addr, 56);
  if (typeof b === 'number') return b;
  const v = new DataView(b.buffer, b.byteOffset, 56);
  const iovlen = v.getBigUint64(24, true);
  if (iovlen > BigInt(UIO_MAXIOV)) return -Errno.EMSGSIZE;
  const iovs = copyInIovecs(t, v.getBigUint64(16, true), Number(iovlen));
  if (typeof iovs === 'number') return iovs;
  const controllen = v.getBigUint64(40, true);
  return {
    name: v.getBigUint64(0, true),
    iovs,
    control: v.getBigUint64(32, true),
    controllen: controllen > BigInt(MAX_MSG) ? MAX_MSG : Number(controllen),
  };
}

interface Control {
  rights: FileDescription[];
  /** Credentials the sender gave (SCM_CREDENTIALS), checked against its own. */
  cred: PeerCred | undefined;
}

/** The descriptions and credentials a message's control data names (checked), or -errno. */
function readControl(t: Task, h: MsgHdr): Control | number {
  if (h.controllen === 0) return { rights: [], cred: undefined };
  const c = t.mem.copyIn(h.control, h.controllen);
  if (typeof c === 'number') return c;
  const v = new DataView(c.buffer, c.byteOffset, c.length);
  const rights: FileDescription[] = [];
  let cred: PeerCred | undefined;
  for (let at = 0; at + 16 <= c.length;) {
    const len = Number(v.getBigUint64(at, true));
    const level = v.getInt32(at + 8, true);
    const type = v.getInt32(at + 12, true);
    if (len < 16 || at + len > c.length) return -Errno.EINVAL;
    if (level !== SOL_SOCKET) return -Errno.EINVAL;
    if (type === SCM_RIGHTS) {
      const n = Math.floor((len - 16) / 4);
      if (n <= 0 || rights.length + n > SCM_MAX_FD) return -Errno.EINVAL;
      for (let i = 0; i < n; i++) {
        const f = t.files.getFile(v.getInt32(at + 16 + i * 4, true));
        if (typeof f === 'number') return f;
        rights.push(f);
      }
    } else if (type === SCM_CREDENTIALS) {
      if (len < 16 + 12) return -Errno.EINVAL;
      const pid = v.getInt32(at + 16, true);
      const uid = v.getUint32(at + 20, true);
      const gid = v.getUint32(at + 24, true);
      // scm_check_creds: one's own ids, or the capability to claim others.
      const c0 = t.creds;
      const pidOk = pid === t.tgid || capable(c0, CAP_SYS_ADMIN);
      const uidOk = uid === c0.uid || uid === c0.euid || uid === c0.suid || capable(c0, CAP_SETUID);
      const gidOk = gid === c0.gid || gid === c0.egid || gid === c0.sgid || capable(c0, CAP_SETGID);
      if (!pidOk || !uidOk || !gidOk) return -Errno.EPERM;
      if (pid !== t.tgid && t.kernel.tasks.get(pid) === undefined) return -Errno.ESRCH;
      cred = { pid, uid, gid };
    } else return -Errno.EINVAL;
    at += (len + 7) & ~7;
  }
  return { rights, cred };
}

/** Implements Linux syscall sendmsg(2). */
function sendmsg(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const h = readMsghdr(t, a[1] ?? 0n);
  if (typeof h === 'number') return h;
  const bad = addressed(s.ep, h.name);
  if (bad < 0) return bad;
  const ctl = readControl(t, h);
  if (typeof ctl === 'number') return ctl;
  const data = gather(t, h.iovs);
  if (typeof data === 'number') return data;
  return sendData(t, s, data, ctl.rights, int(a[2] ?? 0n), ctl.cred ?? senderCred(t));
}

/** What one receive got: the bytes, and what Received says of them. */
type Received = Omit<Got, 'n'> & { data: Uint8Array };

/** One receive into `size` bytes: parks a blocking caller while nothing is there. */
function recvData(
  t: Task,
  s: { f: FileDescription; ep: UnixEndpoint },
  size: number,
  flags: number,
): Received | number {
  if ((flags & MSG_OOB) !== 0) return -Errno.EOPNOTSUPP;
  // No bigger than what is queued: a large buffer for a small message allocates nothing more.
  const buf = new Uint8Array(Math.min(size, MAX_MSG, s.ep.readable()));
  const r = s.ep.recv(buf, (flags & MSG_PEEK) !== 0);
  if (typeof r === 'number') {
    const nonblock = (s.f.flags & O_NONBLOCK) !== 0 || (flags & MSG_DONTWAIT) !== 0;
    if (r === -Errno.EAGAIN && !nonblock) {
      t.waitOn?.(s.f, POLLIN);
      return BLOCKED;
    }
    return r;
  }
  return { ...r, data: buf.subarray(0, r.n) };
}

/** The length a receive answers: the real one of a datagram or record under MSG_TRUNC. */
function answered(ep: UnixEndpoint, n: number, full: number, flags: number): number {
  return (flags & MSG_TRUNC) !== 0 && ep.type !== SOCK_STREAM ? full : n;
}

/** Writes a zero source address length (the peer of a socket pair has no name). */
function noName(t: Task, lenAddr: bigint): number {
  if (lenAddr === 0n) return 0;
  const r = t.mem.copyOut(lenAddr, new Uint8Array(4));
  return r < 0 ? r : 0;
}

/** Implements Linux syscall recvfrom(2) (recv(2)). */
function recvfrom(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const flags = int(a[3] ?? 0n);
  const size = Number(BigInt.asUintN(32, a[2] ?? 0n));
  const r = recvData(t, s, size, flags);
  if (typeof r === 'number') return r;
  for (const f of r.rights) f.decRef();
  if (r.data.length > 0) {
    const c = t.mem.copyOut(a[1] ?? 0n, r.data);
    if (c < 0) return c;
  }
  if ((a[4] ?? 0n) !== 0n) {
    const c = noName(t, a[5] ?? 0n);
    if (c < 0) return c;
  }
  return answered(s.ep, r.data.length, r.full, flags);
}

/**
 * Writes one control message `used` bytes into the control buffer, as Linux's put_cmsg: cut
 * to what is left (MSG_CTRUNC), nothing when not even a header fits. Returns [the bytes of the
 * buffer it took (its CMSG_SPACE, or what was left), msg_flags bits], or -errno.
 */
function putCmsg(
  t: Task,
  h: MsgHdr,
  used: number,
  type: number,
  data: Uint8Array,
): [number, number] | number {
  const left = h.controllen - used;
  if (left < 16) return [0, MSG_CTRUNC];
  const full = 16 + data.length;
  const len = Math.min(full, left);
  const msg = new Uint8Array(full);
  const v = new DataView(msg.buffer);
  v.setBigUint64(0, BigInt(len), true);
  v.setInt32(8, SOL_SOCKET, true);
  v.setInt32(12, type, true);
  msg.set(data, 16);
  const r = t.mem.copyOut(h.control + BigInt(used), msg.subarray(0, len));
  if (r < 0) return r;
  return [Math.min((full + 7) & ~7, left), len < full ? MSG_CTRUNC : 0];
}

/**
 * The control messages of a receive: SCM_CREDENTIALS when the reader asked (SO_PASSCRED),
 * then SCM_RIGHTS with as many received descriptions as the rest of the buffer holds (the
 * others are closed, MSG_CTRUNC). Returns [msg_controllen, msg_flags bits], or -errno.
 */
function deliverControl(
  t: Task,
  h: MsgHdr,
  got: { rights: FileDescription[]; cred: PeerCred },
  passcred: boolean,
  cloexec: boolean,
): [number, number] | number {
  let used = 0;
  let flags = 0;
  if (passcred) {
    const ucred = new Uint8Array(12);
    const v = new DataView(ucred.buffer);
    v.setInt32(0, got.cred.pid, true);
    v.setUint32(4, got.cred.uid, true);
    v.setUint32(8, got.cred.gid, true);
    const r = putCmsg(t, h, used, SCM_CREDENTIALS, ucred);
    if (typeof r === 'number') {
      for (const f of got.rights) f.decRef();
      return r;
    }
    used += r[0];
    flags |= r[1];
  }
  if (got.rights.length === 0) return [used, flags];
  const left = h.controllen - used;
  const room = left >= 16 ? Math.floor((left - 16) / 4) : 0;
  const fds: number[] = [];
  for (const f of got.rights) {
    const fd = fds.length < room ? t.files.install(f, cloexec) : -1;
    if (fd < 0) {
      f.decRef();
      flags |= MSG_CTRUNC;
      continue;
    }
    fds.push(fd);
  }
  if (fds.length === 0) return [used, flags];
  const data = new Uint8Array(fds.length * 4);
  const dv = new DataView(data.buffer);
  fds.forEach((fd, i) => dv.setInt32(i * 4, fd, true));
  const r = putCmsg(t, h, used, SCM_RIGHTS, data);
  if (typeof r === 'number') {
    for (const fd of fds) t.files.close(fd);
    return r;
  }
  return [used + r[0], flags | r[1]];
}

/** Implements Linux syscall recvmsg(2). */
function recvmsg(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const hdrAddr = a[1] ?? 0n;
  const h = readMsghdr(t, hdrAddr);
  if (typeof h === 'number') return h;
  const flags = int(a[2] ?? 0n);
  let size = 0;
  for (const v of h.iovs) size += v.len;
  const r = recvData(t, s, size, flags);
  if (typeof r === 'number') return r;
  const sc = scatter(t, h.iovs, r.data);
  if (sc < 0) {
    for (const f of r.rights) f.decRef();
    return sc;
  }
  const ctl = deliverControl(t, h, r, s.ep.passcred, (flags & MSG_CMSG_CLOEXEC) !== 0);
  if (typeof ctl === 'number') return ctl;
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  // msg_namelen (the peer has no name), msg_controllen, msg_flags.
  let c = t.mem.copyOut(hdrAddr + 8n, new Uint8Array(4));
  if (c < 0) return c;
  v.setBigUint64(0, BigInt(ctl[0]), true);
  c = t.mem.copyOut(hdrAddr + 40n, out);
  if (c < 0) return c;
  const mflags = new Uint8Array(4);
  new DataView(mflags.buffer).setInt32(0, ctl[1] | (r.truncated ? MSG_TRUNC : 0), true);
  c = t.mem.copyOut(hdrAddr + 48n, mflags);
  if (c < 0) return c;
  return answered(s.ep, r.data.length, r.full, flags);
}

/** Implements Linux syscall shutdown(2). */
function shutdown(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const how = int(a[1] ?? 0n);
  if (how < 0 || how > 2) return -Errno.EINVAL;
  return s.ep.shutdown(how);
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
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n, true);
  const r = t.mem.copyOut(optlenAddr, out);
  return r < 0 ? r : 0;
}

function intBytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/** Implements Linux syscall getsockopt(2): the SOL_SOCKET options of a Unix socket. */
function getsockopt(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  if (int(a[1] ?? 0n) !== SOL_SOCKET) return -Errno.EOPNOTSUPP;
  const ep = s.ep;
  let value: Uint8Array;
  switch (int(a[2] ?? 0n)) {
    case SO_TYPE:
      value = intBytes(ep.type);
      break;
    case SO_DOMAIN:
      value = intBytes(AF_UNIX);
      break;
    case SO_PROTOCOL:
    case SO_ERROR:
    case SO_ACCEPTCONN:
      value = intBytes(0);
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
    case SO_PEERCRED: {
      const peer = ep.peer;
      const cred = peer?.cred ?? { pid: 0, uid: 0xffffffff, gid: 0xffffffff };
      value = new Uint8Array(12);
      const v = new DataView(value.buffer);
      v.setInt32(0, cred.pid, true);
      v.setUint32(4, cred.uid, true);
      v.setUint32(8, cred.gid, true);
      break;
    }
    default:
      return -Errno.ENOPROTOOPT;
  }
  return putOption(t, a[3] ?? 0n, a[4] ?? 0n, value);
}

/** Implements Linux syscall setsockopt(2): SO_SNDBUF, SO_RCVBUF and SO_PASSCRED. */
function setsockopt(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  if (int(a[1] ?? 0n) !== SOL_SOCKET) return -Errno.EOPNOTSUPP;
  const name = int(a[2] ?? 0n);
  if (name !== SO_SNDBUF && name !== SO_RCVBUF && name !== SO_PASSCRED) return -Errno.ENOPROTOOPT;
  if (uint(a[4] ?? 0n) < 4) return -Errno.EINVAL;
  const b = t.mem.copyIn(a[3] ?? 0n, 4);
  if (typeof b === 'number') return b;
  const v = new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
  const ep = s.ep;
  // Doubled for the kernel's bookkeeping, within [minimum, 2 * maximum], as sock_setsockopt.
  const size = (min: number): number => Math.max(min, Math.min(Math.max(v, 0), SOCKBUF_MAX) * 2);
  if (name === SO_SNDBUF) ep.sndbuf = size(SOCK_MIN_SNDBUF);
  else if (name === SO_RCVBUF) ep.rcvbuf = size(SOCK_MIN_RCVBUF);
  else ep.passcred = v !== 0;
  if (name === SO_SNDBUF) ep.notify();
  return 0;
}

/**
 * getsockname/getpeername: a socket pair's ends have no name: sun_family only, length 2 (the
 * buffer gets what fits; the length says what there was, as Linux's move_addr_to_user).
 */
function unnamed(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const lenAddr = a[2] ?? 0n;
  const lb = t.mem.copyIn(lenAddr, 4);
  if (typeof lb === 'number') return lb;
  const len = new DataView(lb.buffer, lb.byteOffset, 4).getInt32(0, true);
  if (len < 0) return -Errno.EINVAL;
  const family = new Uint8Array(2);
  new DataView(family.buffer).setUint16(0, AF_UNIX, true);
  const n = Math.min(len, 2);
  if (n > 0) {
    const r = t.mem.copyOut(a[1] ?? 0n, family.subarray(0, n));
    if (r < 0) return r;
  }
  const r = t.mem.copyOut(lenAddr, intBytes(2));
  return r < 0 ? r : 0;
}

const NOTE =
  'connected AF_UNIX sockets only (socketpair); a blocking stream send may return short; no MSG_OOB, MSG_WAITALL returns what is there';

export const socketSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [53, { name: 'socketpair', handler: socketpair, support: 'partial', note: 'AF_UNIX' }],
  [44, { name: 'sendto', handler: sendto, support: 'partial', note: NOTE }],
  [45, { name: 'recvfrom', handler: recvfrom, support: 'partial', note: NOTE }],
  [46, { name: 'sendmsg', handler: sendmsg, support: 'partial', note: NOTE }],
  [47, { name: 'recvmsg', handler: recvmsg, support: 'partial', note: NOTE }],
  [48, { name: 'shutdown', handler: shutdown, support: 'full' }],
  [51, { name: 'getsockname', handler: unnamed, support: 'partial', note: 'unnamed sockets' }],
  [52, { name: 'getpeername', handler: unnamed, support: 'partial', note: 'unnamed sockets' }],
  [
    54,
    {
      name: 'setsockopt',
      handler: setsockopt,
      support: 'partial',
      note: 'SO_SNDBUF, SO_RCVBUF, SO_PASSCRED',
    },
  ],
  [
    55,
    {
      name: 'getsockopt',
      handler: getsockopt,
      support: 'partial',
      note: 'SOL_SOCKET options of a Unix socket',
    },
  ],
]);
