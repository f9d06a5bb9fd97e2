// Connected Unix domain sockets, as socketpair(2) makes them: two endpoints, each with a
// receive queue, for SOCK_STREAM (bytes, no boundaries), SOCK_SEQPACKET (records, end of file
// when the peer goes) and SOCK_DGRAM (datagrams, ECONNREFUSED once the peer is gone). File
// descriptions can travel with the data (SCM_RIGHTS): the queue holds a reference to each
// until it is received or dropped. shutdown(2) as Linux's unix_shutdown: a direction shut on
// one side is shut on the other's matching side too, for the connection-oriented types.
// Readiness as unix_poll; a send waits (EAGAIN, the caller parks) while the peer's queue
// holds its send buffer's worth. Nothing here touches the host; never throws.
//
// Bound, listening and connecting sockets (socket, bind, listen, connect, accept) are not
// made here yet: socket(2) still answers ENOSYS.

import { Errno } from '../../abi/linux/errno.js';
import {
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

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
/** net.core.wmem_default and rmem_default: what SO_SNDBUF and SO_RCVBUF start at. */
export const SOCKBUF_DEFAULT = 212992;
/** net.core.wmem_max / rmem_max: the most setsockopt may ask for (it doubles the value). */
export const SOCKBUF_MAX = 212992;
const SOCKFS_MAGIC = 0x534f434b;

/** What a receive found: bytes, the descriptions that came with them, the real length. */
export interface Received {
  n: number;
  /** A datagram's or record's full length (MSG_TRUNC), else n. */
  full: number;
  rights: FileDescription[];
  truncated: boolean;
  /** Who sent it (SCM_CREDENTIALS, for a receiver with SO_PASSCRED). */
  cred: PeerCred;
}

interface Packet {
  data: Uint8Array;
  off: number;
  rights: FileDescription[];
  cred: PeerCred;
}

/** The peer's identity at creation (SO_PEERCRED). */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** The credentials of no sender (an empty receive): Linux's overflow ids. */
const NOBODY: PeerCred = { pid: 0, uid: 65534, gid: 65534 };

export class UnixEndpoint {
  peer: UnixEndpoint | null = null;
  private readonly queue: Packet[] = [];
  /** Bytes waiting in this endpoint's receive queue. */
  queued = 0;
  sndbuf = SOCKBUF_DEFAULT;
  rcvbuf = SOCKBUF_DEFAULT;
  /** RCV_SHUTDOWN and SEND_SHUTDOWN of this side (sk_shutdown). */
  shutRead = false;
  shutWrite = false;
  /** The peer closed its end. */
  peerGone = false;
  passcred = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly type: number,
    readonly cred: PeerCred,
  ) {}

  get connectionOriented(): boolean {
    return this.type !== SOCK_DGRAM;
  }

  subscribe(cb: () => void): () => void {
    this.waiters.add(cb);
    return () => this.waiters.delete(cb);
  }

  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Room in the peer's queue for `len` more bytes (a record must fit whole). */
  private roomFor(peer: UnixEndpoint, len: number): boolean {
    if (peer.queued === 0) return true;
    return peer.queued + (this.type === SOCK_STREAM ? 1 : len) <= this.sndbuf;
  }

  /**
   * Sends `src` (with `rights`, whose references pass to the queue on success): the bytes
   * queued, or -EPIPE / -ECONNREFUSED / -EMSGSIZE / -EAGAIN (the caller parks or answers).
   */
  send(src: Uint8Array, rights: FileDescription[], cred: PeerCred = this.cred): number {
    if (this.shutWrite) return -Errno.EPIPE;
    const peer = this.peer;
    if (peer === null || this.peerGone) {
      return this.type === SOCK_DGRAM ? -Errno.ECONNREFUSED : -Errno.EPIPE;
    }
    if (peer.shutRead) return -Errno.EPIPE;
    if (this.type !== SOCK_STREAM && src.length > this.sndbuf) return -Errno.EMSGSIZE;
    if (src.length === 0 && rights.length === 0 && this.type === SOCK_STREAM) return 0;
    if (!this.roomFor(peer, src.length)) return -Errno.EAGAIN;
    let n = src.length;
    if (this.type === SOCK_STREAM) n = Math.min(n, Math.max(1, this.sndbuf - peer.queued));
    peer.queue.push({ data: src.slice(0, n), off: 0, rights, cred });
    peer.queued += n;
    peer.notify();
    return n;
  }

  /**
   * Receives into `dst`: bytes up to the next packet that carries descriptions (stream), or
   * one record or datagram (the rest of it dropped unless peeking). -EAGAIN when nothing is
   * there yet and more may come; n 0 at end of file.
   */
  recv(dst: Uint8Array, peek: boolean): Received | number {
    if (this.queue.length === 0) {
      const eof =
        this.shutRead || (this.connectionOriented && (this.peerGone || this.peer === null));
      return eof ? { n: 0, full: 0, rights: [], truncated: false, cred: NOBODY } : -Errno.EAGAIN;
    }
    if (this.type !== SOCK_STREAM) {
      const p = this.queue[0];
      if (p === undefined) return -Errno.EAGAIN;
      const n = Math.min(dst.length, p.data.length);
      dst.set(p.data.subarray(0, n));
      if (!peek) {
        this.queue.shift();
        this.queued -= p.data.length;
        this.notifyPeer();
      }
      const rights = peek ? [] : p.rights;
      return { n, full: p.data.length, rights, truncated: n < p.data.length, cred: p.cred };
    }
    let n = 0;
    const rights: FileDescription[] = [];
    const cred = this.queue[0]?.cred ?? NOBODY;
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
      if (p.off === p.data.length) this.queue.shift();
      else break;
    }
    if (!peek) {
      this.queued -= n;
      this.notifyPeer();
    }
    return { n, full: n, rights, truncated: false, cred };
  }

  private notifyPeer(): void {
    if (this.peer !== null && !this.peerGone) this.peer.notify();
  }

  /** FIONREAD: all queued bytes (stream, seqpacket), or the next datagram's length. */
  readable(): number {
    if (this.type !== SOCK_DGRAM) return this.queued;
    return this.queue[0]?.data.length ?? 0;
  }

  /**
   * POLL* events ready now (unix_poll / unix_dgram_poll): writable while what it sent and the
   * peer has not read stays under a quarter of its send buffer (a gone peer holds nothing),
   * whatever the shutdown state, as Linux.
   */
  readiness(): number {
    let m = 0;
    if (this.shutRead && this.shutWrite) m |= POLLHUP;
    if (this.shutRead) m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.queue.length > 0) m |= POLLIN | POLLRDNORM;
    const peer = this.peerGone ? null : this.peer;
    if (peer === null || peer.queued * 4 <= this.sndbuf) m |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return m;
  }

  /** shutdown(2): `how` 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR. */
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

  /** The last reference to this end went: the peer sees the connection end. */
  release(): void {
    for (const p of this.queue) for (const f of p.rights) f.decRef();
    this.queue.length = 0;
    this.queued = 0;
    const peer = this.peer;
    this.peer = null;
    if (peer !== null && !this.peerGone) {
      peer.peerGone = true;
      if (peer.connectionOriented) {
        peer.shutRead = true;
        peer.shutWrite = true;
      }
      peer.notify();
    }
  }
}

class SockFilesystem implements Filesystem {
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
function theSockFs(): SockFilesystem {
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
    subscribe: (cb) => e.subscribe(cb),
    release: () => e.release(),
  };
}

/** A connected pair of endpoints of `type`, each with its inode (for socketpair). */
export function newUnixPair(
  type: number,
  cred: PeerCred,
): [{ inode: SocketInode; impl: FileImpl }, { inode: SocketInode; impl: FileImpl }] {
  const a = new UnixEndpoint(type, cred);
  const b = new UnixEndpoint(type, cred);
  a.peer = b;
  b.peer = a;
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
