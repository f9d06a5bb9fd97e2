// The socket calls that make, name and connect sockets: socket, bind, listen, connect,
// accept, accept4, getsockname and getpeername, for AF_UNIX (stream, seqpacket, datagram;
// path and abstract names). Checks in Linux's order (__sys_socket, __sys_bind, unix_bind,
// unix_stream_connect, unix_dgram_connect, __sys_accept4). A connect that finds the
// listener's backlog full and an accept with nothing to accept park the caller (or answer
// EAGAIN when non-blocking); a Unix connect never waits for anything else.
//
// Other families answer EAFNOSUPPORT (as a kernel built without them): there is no network
// stack in the Sentry yet. Never trusts a pointer or a length from the application.

import { Errno } from '../../abi/linux/errno.js';
import { AT_FDCWD, O_NONBLOCK, O_RDWR, POLLIN, POLLOUT } from '../../abi/linux/file.js';
import { BLOCKED, waitOnFiles } from '../kernel/block.js';
import type { Task } from '../kernel/task.js';
import { socketMemoryFor } from '../net/sandbox_net.js';
import { AF_UNIX, encodeUnixName, nodeKey } from '../net/unix_names.js';
import {
  SOCK_DGRAM,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOMAXCONN,
  UnixEndpoint,
  unixSocketFile,
  type PeerCred,
} from '../net/unix_socket.js';
import { FileDescription } from '../vfs/file_description.js';
import { mksockAt, unlinkAt } from '../vfs/path_ops.js';
import { int } from './args.js';
import {
  copyInUnixAddr,
  findBound,
  mayWait,
  namesOf,
  putAddr,
  socketOf,
} from './sys_socket_addr.js';
import type { SyscallEntry } from './types.js';

const SOCK_RAW = 3;
const SOCK_MAX = 10;
const SOCK_TYPE_MASK = 0xf;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const AF_MAX = 46;

/** SO_PEERCRED as a socket made, connected or listening now records it (init_peercred). */
export function peerCredOf(t: Task): PeerCred {
  return { pid: t.tgid, uid: t.creds.euid, gid: t.creds.egid };
}

/** The Unix socket type `raw` (its flags removed) asks for, or -errno as unix_create. */
export function unixType(type: number, protocol: number): number {
  if (protocol !== 0 && protocol !== AF_UNIX) return -Errno.EPROTONOSUPPORT;
  if (type === SOCK_RAW) return SOCK_DGRAM;
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET)
    return -Errno.ESOCKTNOSUPPORT;
  return type;
}

/** Installs a new description of `ep`; the fd, or -errno (the endpoint then released). */
function installSocket(t: Task, ep: UnixEndpoint, flags: number): number {
  const e = unixSocketFile(ep, peerCredOf(t));
  const nb = (flags & SOCK_NONBLOCK) !== 0 ? O_NONBLOCK : 0;
  const f = new FileDescription(e.inode, null, e.impl, O_RDWR | nb);
  const fd = t.files.install(f, (flags & SOCK_CLOEXEC) !== 0);
  if (fd < 0) f.decRef();
  return fd;
}

/** Implements Linux syscall socket(2): AF_UNIX stream, datagram and seqpacket sockets. */
function socket(t: Task, a: readonly bigint[]): number {
  const domain = int(a[0] ?? 0n);
  const raw = int(a[1] ?? 0n);
  const flags = raw & ~SOCK_TYPE_MASK;
  const type = raw & SOCK_TYPE_MASK;
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -Errno.EINVAL;
  if (domain < 0 || domain >= AF_MAX) return -Errno.EAFNOSUPPORT;
  if (type > SOCK_MAX) return -Errno.EINVAL;
  if (domain !== AF_UNIX) return -Errno.EAFNOSUPPORT;
  const ut = unixType(type, int(a[2] ?? 0n));
  if (ut < 0) return ut;
  const ep = new UnixEndpoint(ut, peerCredOf(t));
  ep.mem = socketMemoryFor(t.kernel);
  return installSocket(t, ep, flags);
}

/** Implements Linux syscall bind(2): a path name (a socket node), an abstract name, autobind. */
function bind(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const addr = copyInUnixAddr(t, a[1] ?? 0n, int(a[2] ?? 0n));
  if (typeof addr === 'number') return addr;
  if (addr.kind === 'unspec') return -Errno.EINVAL;
  const ep = s.ep;
  const names = namesOf(t);
  if (addr.kind !== 'path') {
    if (ep.name !== null) return -Errno.EINVAL;
    return addr.kind === 'autobind' ? names.autobind(ep) : names.bindAbstract(ep, addr.name);
  }
  // The node is made first (so a taken path is EADDRINUSE even for a bound socket), with the
  // socket inode's mode (0777) less the umask, as unix_bind_bsd.
  const node = mksockAt(t, AT_FDCWD, addr.path, 0o777 & ~t.fs.umask);
  if (typeof node === 'number') return node === -Errno.EEXIST ? -Errno.EADDRINUSE : node;
  if (ep.name !== null) {
    unlinkAt(t, AT_FDCWD, addr.path, false);
    return -Errno.EINVAL;
  }
  const st = node.stat();
  if (typeof st === 'number') return st;
  names.bindNode(ep, nodeKey(st.dev, st.ino), addr.name);
  return 0;
}

/** Implements Linux syscall listen(2); the backlog is capped at net.core.somaxconn. */
function listen(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  let backlog = int(a[1] ?? 0n);
  if (backlog < 0 || backlog > SOMAXCONN) backlog = SOMAXCONN;
  return s.ep.listen(backlog, peerCredOf(t));
}

function nonblocking(f: FileDescription): boolean {
  return (f.flags & O_NONBLOCK) !== 0;
}

/**
 * Implements Linux syscall connect(2): a stream or seqpacket socket to a listener (parks while
 * its backlog is full; EAGAIN when non-blocking), a datagram socket to its default peer
 * (AF_UNSPEC dissolves it).
 */
function connect(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const addr = copyInUnixAddr(t, a[1] ?? 0n, int(a[2] ?? 0n));
  if (typeof addr === 'number') return addr;
  const ep = s.ep;
  if (ep.type === SOCK_DGRAM) {
    if (addr.kind === 'unspec') return ep.connectDgram(null);
    if (addr.kind === 'autobind') return -Errno.EINVAL;
    if (ep.passcred && ep.name === null) {
      const r = namesOf(t).autobind(ep);
      if (r < 0) return r;
    }
    const target = findBound(t, addr, ep.type);
    if (typeof target === 'number') return target;
    return ep.connectDgram(target);
  }
  if (addr.kind !== 'path' && addr.kind !== 'abstract') return -Errno.EINVAL;
  if (ep.passcred && ep.name === null) {
    const r = namesOf(t).autobind(ep);
    if (r < 0) return r;
  }
  const target = findBound(t, addr, ep.type);
  if (typeof target === 'number') return target;
  const r = ep.connectTo(target, peerCredOf(t));
  if (r === -Errno.EAGAIN && !nonblocking(s.f) && mayWait(t, ep.sndTimeoNs)) {
    waitOnFiles(t, [target], [POLLOUT]);
    return BLOCKED;
  }
  return r;
}

/** Implements Linux syscall accept4(2) (accept(2) is flags 0). */
function accept4(t: Task, a: readonly bigint[]): number {
  const flags = int(a[3] ?? 0n);
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -Errno.EINVAL;
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const got = s.ep.accept();
  if (typeof got === 'number') {
    if (got === -Errno.EAGAIN && !nonblocking(s.f) && mayWait(t, s.ep.rcvTimeoNs)) {
      t.waitOn(s.f, POLLIN);
      return BLOCKED;
    }
    return got;
  }
  const fd = installSocket(t, got, flags);
  if (fd < 0) return fd;
  const uaddr = a[1] ?? 0n;
  if (uaddr !== 0n) {
    // The connection is lost with a bad address buffer, as in Linux.
    const r = putAddr(t, uaddr, a[2] ?? 0n, encodeUnixName(got.peer?.name ?? null));
    if (r < 0) {
      t.files.close(fd);
      return r;
    }
  }
  return fd;
}

/** Implements Linux syscall getsockname(2). */
function getsockname(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  return putAddr(t, a[1] ?? 0n, a[2] ?? 0n, encodeUnixName(s.ep.name));
}

/** Implements Linux syscall getpeername(2): -ENOTCONN without a peer. */
function getpeername(t: Task, a: readonly bigint[]): number {
  const s = socketOf(t, a[0] ?? 0n);
  if (typeof s === 'number') return s;
  const peer = s.ep.listening ? null : s.ep.peer;
  if (peer === null) return -Errno.ENOTCONN;
  return putAddr(t, a[1] ?? 0n, a[2] ?? 0n, encodeUnixName(peer.name));
}

const UNIX_ONLY = 'AF_UNIX only: other families answer EAFNOSUPPORT (no network stack yet)';

export const socketConnSyscalls: ReadonlyMap<number, SyscallEntry<Task>> = new Map<
  number,
  SyscallEntry<Task>
>([
  [41, { name: 'socket', handler: socket, support: 'partial', note: UNIX_ONLY }],
  [42, { name: 'connect', handler: connect, support: 'partial', note: UNIX_ONLY }],
  [
    43,
    {
      name: 'accept',
      handler: (t, a) => accept4(t, [a[0] ?? 0n, a[1] ?? 0n, a[2] ?? 0n, 0n]),
      support: 'partial',
      note: UNIX_ONLY,
    },
  ],
  [288, { name: 'accept4', handler: accept4, support: 'partial', note: UNIX_ONLY }],
  [49, { name: 'bind', handler: bind, support: 'partial', note: UNIX_ONLY }],
  [50, { name: 'listen', handler: listen, support: 'partial', note: UNIX_ONLY }],
  [51, { name: 'getsockname', handler: getsockname, support: 'partial', note: UNIX_ONLY }],
  [52, { name: 'getpeername', handler: getpeername, support: 'partial', note: UNIX_ONLY }],
]);
