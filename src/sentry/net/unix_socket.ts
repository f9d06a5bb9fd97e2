// Unix domain sockets inside the sandbox: SOCK_STREAM (bytes, no boundaries), SOCK_SEQPACKET
// (records, end of file when the peer goes) and SOCK_DGRAM (datagrams). An endpoint is made in
// a pair (socketpair) or alone (socket), may be bound to a name (unix_names.ts keeps them),
// listen with a backlog of connections not yet accepted, and connect: a stream or seqpacket
// connect makes the server's end at once (a Unix connect never waits for the peer, only for
// room in its backlog) and queues it for accept. File descriptions can travel with the data
// (SCM_RIGHTS): the queue holds a reference to each until it is received or dropped.
// shutdown(2) as Linux's unix_shutdown; readiness as unix_poll and unix_dgram_poll; a pending
// error (sk_err: ECONNRESET when the peer went with data unread or was never accepted) is
// reported once. A send waits (EAGAIN, the caller parks) while the receiver's queue holds the
// sender's buffer's worth, or, for a datagram to a socket not connected back, more than
// max_dgram_qlen datagrams. Nothing here touches the host; never throws.

import { Errno } from '../../abi/linux/errno.js';
import {
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLRDHUP,
  POLLRDNORM,
  POLLWRBAND,
  POLLWRNORM,
  S_IFSOCK,
  type Stat,
  type StatFs,
} from '../../abi/linux/file.js';
import { allocAnonDev } from '../vfs/dev_numbers.js';
import type { FileDescription } from '../vfs/file_description.js';
import { type FileImpl, type Filesystem, type Inode, emptyInodeStat } from '../vfs/inode.js';
import { emptyStatfs } from '../vfs/statfs.js';
import { Notifier, type SocketMemory, subscribeWithMemory } from './notifier.js';
import { socketOwners } from './sandbox_net.js';

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
/** net.core.wmem_default and rmem_default: what SO_SNDBUF and SO_RCVBUF start at. */
export const SOCKBUF_DEFAULT = 212992;
/** net.core.wmem_max / rmem_max: the most setsockopt may ask for (it doubles the value). */
export const SOCKBUF_MAX = 212992;
const SOCKFS_MAGIC = 0x534f434b;
/** net.unix.max_dgram_qlen: datagrams queued from senders the receiver is not connected to. */
export const MAX_DGRAM_QLEN = 10;
/** net.core.somaxconn: the longest listen backlog. */
export const SOMAXCONN = 4096;
/** What a datagram's length may not pass: the send buffer less this (unix_dgram_sendmsg). */
const DGRAM_OVERHEAD = 32;

/** What a receive found: bytes, the descriptions that came with them, the real length. */
export interface Received {
  n: number;
  /** A datagram's or record's full length (MSG_TRUNC), else n. */
  full: number;
  rights: FileDescription[];
  truncated: boolean;
  /** Who sent it (SCM_CREDENTIALS, for a receiver with SO_PASSCRED). */
  cred: PeerCred;
  /** The sending socket's name (recvfrom's address), or null when it has none. */
  from: Uint8Array | null;
}

interface Packet {
  data: Uint8Array;
  off: number;
  rights: FileDescription[];
  cred: PeerCred;
  from: Uint8Array | null;
  /** The sandbox's socket memory its bytes are charged to. */
  mem: SocketMemory | null;
}

/** The peer's identity at creation (SO_PEERCRED). */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** The credentials of no sender (an empty receive): Linux's overflow ids. */
const NOBODY: PeerCred = { pid: 0, uid: 65534, gid: 65534 };

export class UnixEndpoint extends Notifier {
  /**
   * The connected peer: for stream and seqpacket the other end of the connection (kept, with
   * peerGone, after it closes); for a datagram socket the default destination.
   */
  peer: UnixEndpoint | null = null;
  private readonly queue: Packet[] = [];
  /** Bytes waiting in this endpoint's receive queue. */
  queued = 0;
  sndbuf = SOCKBUF_DEFAULT;
  rcvbuf = SOCKBUF_DEFAULT;
  /** RCV_SHUTDOWN and SEND_SHUTDOWN of this side (sk_shutdown). */
  shutRead = false;
  shutWrite = false;
  /** The peer of a connection closed its end. */
  peerGone = false;
  passcred = false;
  /**
   * The bound name (sun_path bytes: a path without its NUL, or a NUL and an abstract name),
   * or null. The server's end of an accepted connection shares its listener's.
   */
  name: Uint8Array | null = null;
  /** Forgets the binding of `name` when the socket goes (set by whoever bound it). */
  unbind: (() => void) | null = null;
  listening = false;
  /** Connections made to this listening socket and not accepted yet: their server ends. */
  readonly backlog: UnixEndpoint[] = [];
  maxBacklog = 0;
  /** The last reference went (SOCK_DEAD). */
  dead = false;
  /**
   * SO_PEERCRED (sk_peer_cred): the peer's process and ids at socketpair, connect or (for a
   * listener, its own) listen time; null when there is none (a datagram socket's connect sets
   * none).
   */
  peerCred: PeerCred | null = null;
  /**
   * Socket-level options kept and reported but with no effect on a Unix socket (SO_REUSEADDR,
   * SO_KEEPALIVE, SO_LINGER's pair…), by option number.
   */
  readonly options = new Map<number, number | readonly [number, number]>();
  /** SO_RCVTIMEO and SO_SNDTIMEO in nanoseconds (0n: wait for ever). */
  rcvTimeoNs = 0n;
  sndTimeoNs = 0n;
  readonly domain = 1;
  readonly protocol = 0;
  /** The sandbox's socket memory budget (what this endpoint sends is charged to it). */
  mem: SocketMemory | null = null;

  constructor(
    readonly type: number,
    /** Who made it (socketpair's SO_PEERCRED for its peer). */
    readonly cred: PeerCred,
  ) {
    super();
  }

  get connectionOriented(): boolean {
    return this.type !== SOCK_DGRAM;
  }

  /** Room in `to`'s queue for `len` more bytes (a record must fit whole). */
  private roomFor(to: UnixEndpoint, len: number): boolean {
    if (to.queued === 0) return true;
    return to.queued + (this.type === SOCK_STREAM ? 1 : len) <= this.sndbuf;
  }

  /**
   * Sends `src` to the peer (with `rights`, whose references pass to the queue on success):
   * the bytes queued, or -ENOTCONN / -EPIPE / -ECONNREFUSED / -EMSGSIZE / -EAGAIN (the caller
   * parks or answers).
   */
  send(src: Uint8Array, rights: FileDescription[], cred: PeerCred = this.cred): number {
    const peer = this.peer;
    if (this.type === SOCK_DGRAM) {
      if (peer === null) return -Errno.ENOTCONN;
      return this.sendTo(peer, src, rights, cred);
    }
    if (peer === null) return -Errno.ENOTCONN;
    if (this.shutWrite || this.peerGone || peer.shutRead) return -Errno.EPIPE;
    if (this.type === SOCK_SEQPACKET && src.length > this.sndbuf - DGRAM_OVERHEAD)
      return -Errno.EMSGSIZE;
    if (src.length === 0 && rights.length === 0 && this.type === SOCK_STREAM) return 0;
    if (!this.roomFor(peer, src.length)) return -Errno.EAGAIN;
    let n = src.length;
    if (this.type === SOCK_STREAM) {
      n = Math.min(n, Math.max(1, this.sndbuf - peer.queued));
      // A stream takes what the sandbox's budget still allows; a record fits whole or waits.
      if (this.mem !== null) n = Math.min(n, this.mem.room());
      if (n <= 0 && src.length > 0) return -Errno.EAGAIN;
    }
    if (this.mem !== null && !this.mem.charge(n)) return -Errno.EAGAIN;
    peer.enqueue({ data: src.slice(0, n), off: 0, rights, cred, from: this.name, mem: this.mem });
    return n;
  }

  /**
   * Sends the datagram `src` to `to` (this socket's peer or a socket found by name), as
   * unix_dgram_sendmsg: -EPIPE (either side shut), -EMSGSIZE, -ECONNREFUSED (the peer is gone:
   * this socket is disconnected from it), -EPERM (`to` is connected to another socket),
   * -EAGAIN (its queue is full).
   */
  sendTo(to: UnixEndpoint, src: Uint8Array, rights: FileDescription[], cred: PeerCred): number {
    if (src.length > this.sndbuf - DGRAM_OVERHEAD) return -Errno.EMSGSIZE;
    if (this.shutWrite) return -Errno.EPIPE;
    if (to.dead) {
      if (this.peer === to) this.disconnected(to);
      return -Errno.ECONNREFUSED;
    }
    if (to.peer !== null && to.peer !== this) return -Errno.EPERM;
    if (to.shutRead) return -Errno.EPIPE;
    if (to.peer !== this && to.queue.length > MAX_DGRAM_QLEN) return -Errno.EAGAIN;
    if (!this.roomFor(to, src.length)) return -Errno.EAGAIN;
    if (this.mem !== null && !this.mem.charge(src.length)) return -Errno.EAGAIN;
    to.enqueue({ data: src.slice(), off: 0, rights, cred, from: this.name, mem: this.mem });
    return src.length;
  }

  private enqueue(p: Packet): void {
    this.queue.push(p);
    this.queued += p.data.length - p.off;
    this.notify();
  }

  /**
   * Receives into `dst`: bytes up to the next packet that carries descriptions (stream), or
   * one record or datagram (the rest of it dropped unless peeking). -EAGAIN when nothing is
   * there yet and more may come; n 0 at end of file; -EINVAL / -ENOTCONN on a socket that is
   * not connected (stream / seqpacket); a pending error once.
   */
  recv(dst: Uint8Array, peek: boolean): Received | number {
    if (this.connectionOriented && (this.peer === null || this.listening))
      return this.type === SOCK_STREAM ? -Errno.EINVAL : -Errno.ENOTCONN;
    if (this.queue.length === 0) {
      if (this.error !== 0) return this.takeError();
      const eof = this.shutRead || (this.connectionOriented && this.peerGone);
      return eof
        ? { n: 0, full: 0, rights: [], truncated: false, cred: NOBODY, from: null }
        : -Errno.EAGAIN;
    }
    if (this.type !== SOCK_STREAM) {
      const p = this.queue[0];
      if (p === undefined) return -Errno.EAGAIN;
      const n = Math.min(dst.length, p.data.length);
      dst.set(p.data.subarray(0, n));
      if (!peek) {
        this.queue.shift();
        this.queued -= p.data.length;
        p.mem?.release(p.data.length);
        this.freed();
      }
      const rights = peek ? [] : p.rights;
      return {
        n,
        full: p.data.length,
        rights,
        truncated: n < p.data.length,
        cred: p.cred,
        from: p.from,
      };
    }
    let n = 0;
    const rights: FileDescription[] = [];
    const first = this.queue[0];
    const cred = first?.cred ?? NOBODY;
    const from = first?.from ?? null;
    for (let i = 0; i < this.queue.length && n < dst.length;) {
      const p = this.queue[i];
      if (p === undefined) break;
      // Descriptions come with the first byte of their packet, and never past another's.
      if (p.rights.length > 0 && (n > 0 || rights.length > 0)) break;
      const take = Math.min(dst.length - n, p.data.length - p.off);
      dst.set(p.data.subarray(p.off, p.off + take), n);
      n += take;
      if (peek) {
        i++;
        continue;
      }
      rights.push(...p.rights);
      p.rights = [];
      p.off += take;
      p.mem?.release(take);
      if (p.off === p.data.length) this.queue.shift();
      else break;
    }
    if (!peek) {
      this.queued -= n;
      this.freed();
    }
    return { n, full: n, rights, truncated: false, cred, from };
  }

  /** Room was made in the queue: the peer (and any sender waiting on this socket) may go on. */
  private freed(): void {
    if (this.peer !== null && !this.peerGone) this.peer.notify();
    this.notify();
  }

  /** FIONREAD: all queued bytes (stream, seqpacket), or the next datagram's length. */
  readable(): number {
    if (this.type !== SOCK_DGRAM) return this.queued;
    return this.queue[0]?.data.length ?? 0;
  }

  /**
   * POLL* events ready now (unix_poll; unix_dgram_poll for datagram and seqpacket sockets):
   * an unconnected connection-oriented socket hangs up; a listener is readable with a
   * connection waiting and never writable; otherwise writable while what it sent and the peer
   * has not read stays under a quarter of its send buffer (a gone peer holds nothing), and a
   * datagram socket not while its peer, connected elsewhere, holds a full queue.
   */
  readiness(): number {
    let m = 0;
    if (this.error !== 0) m |= POLLERR;
    if (this.shutRead && this.shutWrite) m |= POLLHUP;
    if (this.shutRead) m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.queue.length > 0 || this.backlog.length > 0) m |= POLLIN | POLLRDNORM;
    if (this.connectionOriented && this.peer === null && !this.listening) m |= POLLHUP;
    if (this.listening) return m;
    const peer = this.peerGone || this.peer?.dead === true ? null : this.peer;
    let writable = peer === null || peer.queued * 4 <= this.sndbuf;
    if (
      writable &&
      this.type === SOCK_DGRAM &&
      peer !== null &&
      peer.peer !== this &&
      peer.queue.length > MAX_DGRAM_QLEN
    )
      writable = false;
    if (writable && this.mem !== null && !this.mem.fits(1)) writable = false;
    if (writable) m |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return m;
  }

  /** shutdown(2): `how` 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR (connected or not, as Linux). */
  shutdown(how: number): number {
    const rd = how === 0 || how === 2;
    const wr = how === 1 || how === 2;
    if (rd) this.shutRead = true;
    if (wr) this.shutWrite = true;
    const peer = this.peer;
    if (peer !== null && !this.peerGone && this.connectionOriented) {
      if (rd) peer.shutWrite = true;
      if (wr) peer.shutRead = true;
      peer.notify();
    }
    this.notify();
    return 0;
  }

  /** listen(2) by `cred` with a backlog already capped at SOMAXCONN. */
  listen(backlog: number, cred: PeerCred): number {
    if (this.type === SOCK_DGRAM) return -Errno.EOPNOTSUPP;
    if (this.name === null || (this.peer !== null && !this.listening)) return -Errno.EINVAL;
    this.peerCred = cred;
    this.maxBacklog = backlog;
    this.listening = true;
    this.notify();
    return 0;
  }

  /**
   * connect(2) of a stream or seqpacket socket to the listener `target`: the server's end is
   * made and queued for accept. -EAGAIN while the backlog is full (the caller parks on
   * `target` or answers it); `cred` is the connecting process's (the server's SO_PEERCRED).
   */
  connectTo(target: UnixEndpoint, cred: PeerCred): number {
    // Linux's order: the listener's state, its backlog, then this socket's state.
    if (target.type !== this.type) return -Errno.EPROTOTYPE;
    if (!target.listening || target.dead || target.shutRead) return -Errno.ECONNREFUSED;
    if (target.backlog.length > target.maxBacklog) return -Errno.EAGAIN;
    if (this.listening) return -Errno.EINVAL;
    if (this.peer !== null) return -Errno.EISCONN;
    const server = new UnixEndpoint(this.type, target.cred);
    server.name = target.name;
    server.mem = target.mem;
    server.peerCred = cred;
    this.peerCred = target.peerCred;
    this.peer = server;
    server.peer = this;
    target.backlog.push(server);
    target.notify();
    this.notify();
    return 0;
  }

  /** Sets (or, with null, clears) a datagram socket's peer, as unix_dgram_connect. */
  connectDgram(target: UnixEndpoint | null): number {
    if (target !== null) {
      if (target.type !== this.type) return -Errno.EPROTOTYPE;
      if (target.dead) return -Errno.ECONNREFUSED;
      if (target.peer !== null && target.peer !== this) return -Errno.EPERM;
    }
    const old = this.peer;
    if (old !== null && old !== target) this.disconnected(old);
    this.peer = target;
    this.notify();
    return 0;
  }

  /**
   * A datagram socket leaves its peer `old` (unix_dgram_disconnected): what it had queued is
   * dropped, and a live `old` connected back learns it (ECONNRESET), since datagrams were lost.
   */
  private disconnected(old: UnixEndpoint): void {
    this.peer = null;
    if (this.queue.length === 0) return;
    this.dropQueue();
    this.notify();
    if (!old.dead && old.peer === this) {
      old.error = Errno.ECONNRESET;
      old.notify();
    }
  }

  private dropQueue(): void {
    for (const p of this.queue) {
      for (const f of p.rights) f.decRef();
      p.mem?.release(p.data.length - p.off);
    }
    this.queue.length = 0;
    this.queued = 0;
  }

  /** accept(2): the next connection's server end, -EAGAIN when none waits. */
  accept(): UnixEndpoint | number {
    if (this.type === SOCK_DGRAM) return -Errno.EOPNOTSUPP;
    if (!this.listening) return -Errno.EINVAL;
    const s = this.backlog.shift();
    if (s === undefined) return -Errno.EAGAIN;
    s.passcred = this.passcred;
    // A connecter waiting for room may go on.
    this.notify();
    return s;
  }

  /**
   * The last reference to this end went: its name is forgotten, connections never accepted
   * are reset, and the peer of a connection sees it end (ECONNRESET when data it sent was
   * never read, or this end was never accepted).
   */
  release(neverAccepted = false): void {
    if (this.dead) return;
    this.dead = true;
    this.unbind?.();
    this.unbind = null;
    const unread = this.queue.length > 0;
    this.dropQueue();
    for (const e of this.backlog.splice(0)) e.release(true);
    this.listening = false;
    const peer = this.peer;
    this.peer = null;
    if (peer !== null && !this.peerGone && this.connectionOriented) {
      peer.peerGone = true;
      peer.shutRead = true;
      peer.shutWrite = true;
      if (unread || neverAccepted) peer.error = Errno.ECONNRESET;
    }
    if (peer !== null) peer.notify();
    this.notify();
  }
}

export class SockFilesystem implements Filesystem {
  readonly name = 'sockfs';
  readonly dev = allocAnonDev();
  readonly root: Inode;
  nextIno = 1n;
  constructor() {
    this.root = new SocketInode(this, null, { pid: 0, uid: 0, gid: 0 });
  }
  statfs(): StatFs {
    return emptyStatfs(SOCKFS_MAGIC);
  }
}

let sockFs: SockFilesystem | null = null;
export function theSockFs(): SockFilesystem {
  sockFs ??= new SockFilesystem();
  return sockFs;
}

/** A socket's inode: what fstat reports (S_IFSOCK, owned by its creator). */
export class SocketInode implements Inode {
  readonly type = S_IFSOCK;
  readonly ino: bigint;
  private readonly time: [number, number] = [Math.floor(Date.now() / 1000), 0];
  constructor(
    readonly fs: Filesystem & { nextIno: bigint },
    readonly endpoint: UnixEndpoint | null,
    private readonly owner: PeerCred,
  ) {
    this.ino = fs.nextIno++;
    if (endpoint !== null) socketOwners.set(endpoint, { uid: owner.uid, ino: this.ino });
  }

  stat(): Stat {
    return emptyInodeStat(
      this.fs.dev,
      this.ino,
      S_IFSOCK | 0o777,
      this.owner.uid,
      this.owner.gid,
      this.time,
    );
  }

  open(): number {
    return -Errno.ENXIO;
  }
}

/** The FileImpl of an endpoint: read/write are recv/send without flags or descriptions. */
function endpointFile(e: UnixEndpoint): FileImpl {
  return {
    seekable: false,
    read: (dst) => {
      const r = e.recv(dst, false);
      if (typeof r === 'number') return r;
      for (const f of r.rights) f.decRef();
      return r.n;
    },
    write: (src) => e.send(src, []),
    readable: () => e.readable(),
    readiness: () => e.readiness(),
    subscribe: (cb) => subscribeWithMemory(e, e.mem, cb),
    waitLimitNs: (events) => ((events & POLLIN) !== 0 ? e.rcvTimeoNs : e.sndTimeoNs),
    release: () => e.release(),
  };
}

/** A connected pair of endpoints of `type`, each with its inode (for socketpair). */
export function newUnixPair(
  type: number,
  cred: PeerCred,
  mem: SocketMemory | null = null,
): [{ inode: SocketInode; impl: FileImpl }, { inode: SocketInode; impl: FileImpl }] {
  const a = new UnixEndpoint(type, cred);
  const b = new UnixEndpoint(type, cred);
  a.peer = b;
  b.peer = a;
  a.peerCred = cred;
  b.peerCred = cred;
  a.mem = mem;
  b.mem = mem;
  const fs = theSockFs();
  return [
    { inode: new SocketInode(fs, a, cred), impl: endpointFile(a) },
    { inode: new SocketInode(fs, b, cred), impl: endpointFile(b) },
  ];
}

/** The endpoint behind a description, when it is one of these sockets. */
export function endpointOf(f: FileDescription): UnixEndpoint | undefined {
  const i = f.inode;
  return i instanceof SocketInode && i.endpoint !== null ? i.endpoint : undefined;
}

/** The inode and open file of one endpoint (socket(2), or the new end accept(2) gives). */
export function unixSocketFile(
  e: UnixEndpoint,
  owner: PeerCred,
): { inode: SocketInode; impl: FileImpl } {
  return { inode: new SocketInode(theSockFs(), e, owner), impl: endpointFile(e) };
}
