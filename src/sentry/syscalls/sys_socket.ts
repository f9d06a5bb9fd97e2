// The socket calls that move data and set options, over Unix domain sockets
// (net/unix_socket.ts): socketpair, send/recv in all their forms (sendto, recvfrom, sendmsg,
// recvmsg, sendmmsg, recvmmsg; SCM_RIGHTS and SCM_CREDENTIALS), shutdown, and
// getsockopt/setsockopt for the socket-level options a Unix socket has. Checks in Linux's
// order: the fd (EBADF), a socket (ENOTSOCK), then the arguments. sys_socket_conn.ts makes,
// names and connects sockets.
//
// A reader with SO_PASSCRED gets SCM_CREDENTIALS: the sender's own, or those it gave and may
// claim (scm_check_creds). A blocking stream send goes on until everything is queued (it
// parks while the peer's queue is full; a signal ends it with the count so far), and
// MSG_WAITALL makes a stream receive wait for the whole buffer, as Linux. MSG_OOB is
// EOPNOTSUPP. Never trusts a pointer or a length from the application.

import { CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN } from '../../abi/linux/capability.js';
import { Errno } from '../../abi/linux/errno.js';
import { capable } from '../kernel/credentials.js';
import { O_NONBLOCK, O_RDWR, POLLIN, POLLOUT, UIO_MAXIOV } from '../../abi/linux/file.js';
import { BLOCKED, waitOnFiles } from '../kernel/block.js';
import { sendSignal } from '../kernel/signals.js';
import type { Task } from '../kernel/task.js';
import { socketMemoryFor } from '../net/sandbox_net.js';
import { encodeUnixName } from '../net/unix_names.js';
import {
  SOCK_DGRAM,
  SOCK_STREAM,
  type PeerCred,
  type UnixEndpoint,
  newUnixPair,
} from '../net/unix_socket.js';
import { FileDescription } from '../vfs/file_description.js';
import { int, uint } from './args.js';
import { type Iovec, copyInIovecs } from './sys_file_common.js';
import {
  type Sock,
  copyInUnixAddr,
  findBound,
  intBytes,
  mayWait,
  namesOf,
  putAddr,
  socketOf,
} from './sys_socket_addr.js';
import { peerCredOf, unixType } from './sys_socket_conn.js';
import type { SyscallEntry } from './types.js';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
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
const MSG_WAITALL = 0x100;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SIGPIPE = 13;
const SI_USER = 0;

/** The most one send or receive moves through the Sentry at once. */
const MAX_MSG = 1 << 20;

/** Implements Linux syscall socketpair(2) for AF_UNIX (stream, datagram, seqpacket). */
function socketpair(t: Task, a: readonly bigint[]): number {
  const domain = int(a[0] ?? 0n);
  const rawType = int(a[1] ?? 0n);
  const protocol = int(a[2] ?? 0n);
  const flags = rawType & ~SOCK_TYPE_MASK;
  const raw = rawType & SOCK_TYPE_MASK;
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0 || raw > SOCK_MAX) return -Errno.EINVAL;
  if (domain === AF_INET || domain === AF_INET6) return -Errno.EOPNOTSUPP;
  if (domain !== AF_UNIX) return -Errno.EAFNOSUPPORT;
  const type = unixType(raw, protocol);
  if (type < 0) return type;
  const cred = peerCredOf(t);
  const nb = (flags & SOCK_NONBLOCK) !== 0 ? O_NONBLOCK : 0;
  const ends = newUnixPair(type, cred, socketMemoryFor(t.kernel)).map(
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
export function gather(t: Task, iovs: Iovec[]): Uint8Array | number {
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

/** Scatters `data` over the iovecs from byte `skip` of them on; -EFAULT when one is bad. */
export function scatter(t: Task, iovs: Iovec[], data: Uint8Array, skip = 0): number {
  let at = 0;
  for (const v of iovs) {
    if (at >= data.length) break;
    if (skip >= v.len) {
      skip -= v.len;
      continue;
    }
    const n = Math.min(v.len - skip, data.length - at);
    const r = t.mem.copyOut(v.base + BigInt(skip), data.subarray(at, at + n));
    if (r < 0) return r;
    skip = 0;
    at += n;
  }
  return 0;
}

/** Who a message from `t` comes from (SCM_CREDENTIALS: the process, real ids). */
function senderCred(t: Task): PeerCred {
  return { pid: t.tgid, uid: t.creds.uid, gid: t.creds.gid };
}

function nonblocking(s: Sock, flags: number): boolean {
  return (s.f.flags & O_NONBLOCK) !== 0 || (flags & MSG_DONTWAIT) !== 0;
}

/**
 * One send, to the peer or to `to` (a datagram's destination). A blocking stream send goes
 * on until all of `data` is queued, parking while the peer's queue is full (a signal ends it
 * with the count so far); descriptions go with the first bytes. SIGPIPE on EPIPE.
 */
function sendData(
  t: Task,
  s: Sock,
  data: Uint8Array,
  rights: FileDescription[],
  flags: number,
  cred: PeerCred,
  to: UnixEndpoint | null,
): number {
  if ((flags & MSG_OOB) !== 0) return -Errno.EOPNOTSUPP;
  const nonblock = nonblocking(s, flags);
  const stream = s.ep.type === SOCK_STREAM;
  let done = stream && !nonblock ? t.ioResume() : 0;
  for (;;) {
    const give = done > 0 ? [] : rights;
    for (const f of give) f.incRef();
    const chunk = done > 0 ? data.subarray(done) : data;
    const r = to === null ? s.ep.send(chunk, give, cred) : s.ep.sendTo(to, chunk, give, cred);
    if (r >= 0) {
      if (!stream) return r;
      done += r;
      if (nonblock || done >= data.length) return done;
      continue;
    }
    for (const f of give) f.decRef();
    if (r === -Errno.EAGAIN && !nonblock && mayWait(t, s.ep.sndTimeoNs)) {
      if (done > 0 && !t.ioPark(done)) return done;
      // A datagram waits for room at its receiver, which may not be connected back.
      const target = to ?? (s.ep.type === SOCK_DGRAM ? s.ep.peer : null);
      if (target === null || s.f.impl === null) t.waitOn(s.f, POLLOUT);
      else waitOnFiles(t, [s.f.impl, target], [POLLOUT, POLLOUT]);
      // (the description's subscription covers the sandbox's socket memory too)
      return BLOCKED;
    }
    if (done > 0) return done;
    if (r === -Errno.EPIPE && (flags & MSG_NOSIGNAL) === 0)
      sendSignal(t, { signo: SIGPIPE, code: SI_USER, pid: t.tgid, uid: t.creds.uid });
    return r;
  }
}

/**
 * Where a send with the address (addr, len) goes: null for the peer (no address, or a
 * seqpacket socket, which ignores it), or the datagram socket the address names. A stream
 * socket refuses an address (EISCONN when connected, else EOPNOTSUPP).
 */
function destination(t: Task, s: Sock, addr: bigint, len: number): UnixEndpoint | null | number {
  if (addr === 0n || len === 0) return null;
  const ep = s.ep;
  if (ep.type !== SOCK_DGRAM) {
    if (len < 0 || len > 128) return -Errno.EINVAL;
    const b = t.mem.copyIn(addr, len);
    if (typeof b === 'number') return b;
    if (ep.type === SOCK_STREAM) return ep.peer !== null ? -Errno.EISCONN : -Errno.EOPNOTSUPP;
    return null;
  }
  const a = copyInUnixAddr(t, addr, len);
  if (typeof a === 'number') return a;
  if (a.kind !== 'path' && a.kind !== 'abstract') return -Errno.EINVAL;
  if (ep.passcred && ep.name === null) {
    const r = namesOf(t).autobind(ep);
    if (r < 0) return r;
  }
  return findBound(t, a, SOCK_DGRAM);
}

/** Implements Linux syscall sendto(2) (send(2)). */
function sendto(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const len = Math.min(Number(BigInt.asUintN(32, a[2] ?? 0n)), MAX_MSG);
  const data = len === 0 ? new Uint8Array(0) : t.mem.copyIn(a[1] ?? 0n, len);
  if (typeof data === 'number') return data;
  const to = destination(t, s, a[4] ?? 0n, int(a[5] ?? 0n));
  if (typeof to === 'number') return to;
  return sendData(t, s, data, [], int(a[3] ?? 0n), senderCred(t), to);
}

export interface MsgHdr {
  name: bigint;
  namelen: number;
  iovs: Iovec[];
  control: bigint;
  controllen: number;
}

/** struct msghdr from the application: its name, iovecs and control buffer. */
export function readMsghdr(t: Task, addr: bigint): MsgHdr | number {
  const b = t.mem.copyIn(addr, 56);
  if (typeof b === 'number') return b;
  const v = new DataView(b.buffer, b.byteOffset, 56);
  const iovlen = v.getBigUint64(24, true);
  if (iovlen > BigInt(UIO_MAXIOV)) return -Errno.EMSGSIZE;
  const iovs = copyInIovecs(t, v.getBigUint64(16, true), Number(iovlen));
  if (typeof iovs === 'number') return iovs;
  const controllen = v.getBigUint64(40, true);
  const namelen = v.getInt32(8, true);
  if (namelen < 0) return -Errno.EINVAL;
  return {
    name: v.getBigUint64(0, true),
    namelen: Math.min(namelen, 128),
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

/** One sendmsg of the message at `hdrAddr`: the bytes sent, or -errno / BLOCKED. */
function sendOne(t: Task, s: Sock, hdrAddr: bigint, flags: number): number {
  const h = readMsghdr(t, hdrAddr);
  if (typeof h === 'number') return h;
  const to = destination(t, s, h.name, h.namelen);
  if (typeof to === 'number') return to;
  const ctl = readControl(t, h);
  if (typeof ctl === 'number') return ctl;
  const data = gather(t, h.iovs);
  if (typeof data === 'number') return data;
  return sendData(t, s, data, ctl.rights, flags, ctl.cred ?? senderCred(t), to);
}

/** Implements Linux syscall sendmsg(2). */
function sendmsg(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  return sendOne(t, s, a[1] ?? 0n, int(a[2] ?? 0n));
}

/** What a receive got: the bytes moved, and what the first part of them came with. */
interface Got2 {
  n: number;
  /** A datagram's or record's full length (MSG_TRUNC). */
  full: number;
  truncated: boolean;
  rights: FileDescription[];
  cred: PeerCred;
  from: Uint8Array | null;
}

/**
 * One receive of up to `size` bytes, each part handed to `sink` (which copies it out at its
 * offset in the caller's buffer, returning 0 or -errno). Parks a blocking caller while
 * nothing is there; under MSG_WAITALL a blocking stream receive goes on until `size` bytes,
 * the end of the stream, an error, descriptions or a signal (then it answers what it has).
 */
function receive(
  t: Task,
  s: Sock,
  size: number,
  flags: number,
  sink: (data: Uint8Array, at: number) => number,
): Got2 | number {
  if ((flags & MSG_OOB) !== 0) return -Errno.EOPNOTSUPP;
  const nonblock = nonblocking(s, flags);
  const peek = (flags & MSG_PEEK) !== 0;
  const waitall = (flags & MSG_WAITALL) !== 0 && s.ep.type === SOCK_STREAM && !peek && !nonblock;
  let done = waitall ? t.ioResume() : 0;
  let first: Got2 | undefined;
  const sofar = (): Got2 =>
    first ?? { n: done, full: done, truncated: false, rights: [], cred: NOBODY, from: null };
  for (;;) {
    // No bigger than what is queued: a large buffer for a small message allocates no more.
    const buf = new Uint8Array(Math.min(size - done, MAX_MSG, s.ep.readable()));
    const r = s.ep.recv(buf, peek);
    if (typeof r === 'number') {
      if (r === -Errno.EAGAIN && !nonblock && mayWait(t, s.ep.rcvTimeoNs)) {
        if (done > 0 && !t.ioPark(done)) return sofar();
        t.waitOn(s.f, POLLIN);
        return BLOCKED;
      }
      return done > 0 ? sofar() : r;
    }
    const c = sink(buf.subarray(0, r.n), done);
    if (c < 0) {
      for (const f of r.rights) f.decRef();
      return done > 0 ? sofar() : c;
    }
    done += r.n;
    first ??= { ...r };
    first.n = done;
    first.rights = r.rights;
    if (!waitall || done >= size || r.n === 0 || r.rights.length > 0) return first;
  }
}

/** The credentials of no sender (an empty receive): Linux's overflow ids. */
const NOBODY: PeerCred = { pid: 0, uid: 65534, gid: 65534 };

/** The length a receive answers: the real one of a datagram or record under MSG_TRUNC. */
function answered(ep: UnixEndpoint, n: number, full: number, flags: number): number {
  return (flags & MSG_TRUNC) !== 0 && ep.type !== SOCK_STREAM ? full : n;
}

/** The source address a receive reports: the sender's name, nothing when it has none. */
function sourceOf(from: Uint8Array | null): Uint8Array {
  return from === null ? new Uint8Array(0) : encodeUnixName(from);
}

/** Implements Linux syscall recvfrom(2) (recv(2)). */
function recvfrom(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const flags = int(a[3] ?? 0n);
  const size = Number(BigInt.asUintN(32, a[2] ?? 0n));
  const buf = a[1] ?? 0n;
  const r = receive(t, s, size, flags, (data, at) =>
    data.length === 0 ? 0 : t.mem.copyOut(buf + BigInt(at), data),
  );
  if (typeof r === 'number') return r;
  for (const f of r.rights) f.decRef();
  if ((a[4] ?? 0n) !== 0n) {
    const c = putAddr(t, a[4] ?? 0n, a[5] ?? 0n, sourceOf(r.from));
    if (c < 0) return c;
  }
  return answered(s.ep, r.n, r.full, flags);
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

/** One recvmsg into the message at `hdrAddr`: the bytes received, or -errno / BLOCKED. */
function recvOne(t: Task, s: Sock, hdrAddr: bigint, flags: number): number {
  const h = readMsghdr(t, hdrAddr);
  if (typeof h === 'number') return h;
  let size = 0;
  for (const v of h.iovs) size += v.len;
  const r = receive(t, s, size, flags, (data, at) => scatter(t, h.iovs, data, at));
  if (typeof r === 'number') return r;
  const ctl = deliverControl(t, h, r, s.ep.passcred, (flags & MSG_CMSG_CLOEXEC) !== 0);
  if (typeof ctl === 'number') return ctl;
  const c = finishMsghdr(
    t,
    hdrAddr,
    h,
    sourceOf(r.from),
    ctl[0],
    ctl[1] | (r.truncated ? MSG_TRUNC : 0),
  );
  return c < 0 ? c : answered(s.ep, r.n, r.full, flags);
}

/**
 * Writes back what recvmsg reports in the msghdr at `hdrAddr`: as much of the source `src` as
 * msg_namelen allows and its full length (when msg_name is given), then msg_controllen and
 * msg_flags. 0 or -EFAULT.
 */
export function finishMsghdr(
  t: Task,
  hdrAddr: bigint,
  h: MsgHdr,
  src: Uint8Array,
  controllen: number,
  msgFlags: number,
): number {
  let c: number;
  if (h.name !== 0n) {
    const n = Math.min(h.namelen, src.length);
    if (n > 0) {
      c = t.mem.copyOut(h.name, src.subarray(0, n));
      if (c < 0) return c;
    }
    c = t.mem.copyOut(hdrAddr + 8n, intBytes(src.length));
    if (c < 0) return c;
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(controllen), true);
  c = t.mem.copyOut(hdrAddr + 40n, out);
  if (c < 0) return c;
  c = t.mem.copyOut(hdrAddr + 48n, intBytes(msgFlags));
  return c < 0 ? c : 0;
}

/** Implements Linux syscall recvmsg(2). */
function recvmsg(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  return recvOne(t, s, a[1] ?? 0n, int(a[2] ?? 0n));
}

/** sizeof(struct mmsghdr): a msghdr and msg_len, padded. */
const MMSGHDR = 64;

/**
 * sendmmsg(2) and recvmmsg(2): one call per message while they succeed, each message's
 * msg_len set; the count, or the first message's error. Only the first message may wait: the
 * later ones are tried without waiting (a difference: Linux waits for each on a blocking
 * socket; recvmmsg then behaves as with MSG_WAITFORONE, and its timeout is not used).
 */
function mmsg(
  t: Task,
  a: readonly bigint[],
  one: (t: Task, s: Sock, hdr: bigint, flags: number) => number,
  extraFlags: number,
): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const vec = a[1] ?? 0n;
  const vlen = Math.min(uint(a[2] ?? 0n), UIO_MAXIOV);
  const flags = int(a[3] ?? 0n) & ~extraFlags;
  let k = 0;
  for (; k < vlen; k++) {
    const hdr = vec + BigInt(k * MMSGHDR);
    const r = one(t, s, hdr, k === 0 ? flags : flags | MSG_DONTWAIT);
    if (r === BLOCKED) return r;
    if (r < 0) return k > 0 ? k : r;
    const c = t.mem.copyOut(hdr + 56n, intBytes(r));
    if (c < 0) return k > 0 ? k : c;
  }
  return k;
}

/** Implements Linux syscall shutdown(2). */
function shutdown(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const how = int(a[1] ?? 0n);
  if (how < 0 || how > 2) return -Errno.EINVAL;
  return s.ep.shutdown(how);
}

const NOTE = 'AF_UNIX only; no MSG_OOB';
const MMSG_NOTE = `${NOTE}; only the first message waits (recvmmsg as with MSG_WAITFORONE, no timeout)`;
const MSG_WAITFORONE = 0x10000;

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
  [
    307,
    {
      name: 'sendmmsg',
      handler: (t, a) => mmsg(t, a, sendOne, 0),
      support: 'partial',
      note: MMSG_NOTE,
    },
  ],
  [
    299,
    {
      name: 'recvmmsg',
      handler: (t, a) => mmsg(t, a, recvOne, MSG_WAITFORONE),
      support: 'partial',
      note: MMSG_NOTE,
    },
  ],
]);
