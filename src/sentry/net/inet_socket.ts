// An AF_INET socket as the Sentry's file layer sees it: the netstack's endpoint (UDP for now)
// behind an inode of sockfs and a FileImpl (read/write are recv/send without an address),
// with the socket-level state the stack does not keep (options, timeouts). The packets never
// reach the host. Never throws.

import { Errno } from '../../abi/linux/errno.js';
import { S_IFSOCK, type Stat } from '../../abi/linux/file.js';
import type { FileDescription } from '../vfs/file_description.js';
import { type FileImpl, type Inode, emptyInodeStat } from '../vfs/inode.js';
import { type SocketMemory, subscribeWithMemory } from './notifier.js';
import { socketOwners } from './sandbox_net.js';
import type { Stack } from './stack/stack.js';
import { TcpEndpoint } from './stack/tcp_endpoint.js';
import { UdpEndpoint } from './stack/udp_endpoint.js';
import { type PeerCred, type SockFilesystem, theSockFs } from './unix_socket.js';

const POLLIN = 0x1;
export const AF_INET = 2;
export const IPPROTO_UDP = 17;
export const IPPROTO_TCP = 6;
const SOCK_STREAM = 1;

/** An AF_INET socket: a UDP or a TCP endpoint of the stack, and socket-level state. */
export class InetSocket {
  /** The UDP endpoint (a datagram socket) or the TCP one (a stream socket): exactly one. */
  readonly udp: UdpEndpoint;
  readonly tcp: TcpEndpoint | null;
  /** Options kept without effect on the stack (SO_KEEPALIVE, SO_LINGER…). */
  readonly options = new Map<number, number | readonly [number, number]>();
  rcvTimeoNs = 0n;
  sndTimeoNs = 0n;
  /** TCP-level options kept (TCP_KEEPIDLE…), by option number. */
  readonly tcpOptions = new Map<number, number>();
  readonly domain = AF_INET;
  /** SO_PASSCRED: kept, as Linux does on any socket (no credentials travel over IP). */
  passcred = false;
  readonly peerCred = null;

  /** The sandbox's socket memory budget. */
  readonly memory: SocketMemory;

  constructor(
    stack: Stack,
    readonly type: number,
    readonly protocol: number,
    tcp?: TcpEndpoint,
  ) {
    this.memory = stack.memory;
    this.udp = new UdpEndpoint(stack);
    this.tcp = type === SOCK_STREAM ? (tcp ?? new TcpEndpoint(stack)) : null;
  }

  get listening(): boolean {
    return this.tcp?.state === 'LISTEN';
  }
  get sndbuf(): number {
    return (this.tcp ?? this.udp).sndbuf;
  }
  set sndbuf(v: number) {
    (this.tcp ?? this.udp).sndbuf = v;
    if (this.tcp !== null) this.tcp.sndbufLocked = true;
  }
  get rcvbuf(): number {
    return (this.tcp ?? this.udp).rcvbuf;
  }
  set rcvbuf(v: number) {
    (this.tcp ?? this.udp).rcvbuf = v;
    if (this.tcp !== null) this.tcp.rcvbufLocked = true;
  }
  reuse(on: boolean): void {
    (this.tcp ?? this.udp).reuseAddr = on;
  }
  notify(): void {
    (this.tcp ?? this.udp).notify();
  }
  takeError(): number {
    return (this.tcp ?? this.udp).takeError();
  }
}

export class InetSocketInode implements Inode {
  readonly type = S_IFSOCK;
  readonly ino: bigint;
  readonly fs: SockFilesystem;
  private readonly time: [number, number] = [Math.floor(Date.now() / 1000), 0];
  constructor(
    readonly socket: InetSocket,
    private readonly owner: PeerCred,
  ) {
    this.fs = theSockFs();
    this.ino = this.fs.nextIno++;
    socketOwners.set(socket.tcp ?? socket.udp, { uid: owner.uid, ino: this.ino });
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

/** The inode and open file of a new AF_INET socket. */
export function inetSocketFile(
  s: InetSocket,
  owner: PeerCred,
): { inode: InetSocketInode; impl: FileImpl } {
  const t = s.tcp;
  if (t !== null) {
    return {
      inode: new InetSocketInode(s, owner),
      impl: {
        seekable: false,
        read: (dst) => t.recv(dst, false),
        write: (src) => t.send(src),
        readable: () => t.readable(),
        readiness: () => t.readiness(),
        subscribe: (cb) => subscribeWithMemory(t, s.memory, cb),
        waitLimitNs: (events) => ((events & POLLIN) !== 0 ? s.rcvTimeoNs : s.sndTimeoNs),
        release: () => t.release(),
      },
    };
  }
  const u = s.udp;
  return {
    inode: new InetSocketInode(s, owner),
    impl: {
      seekable: false,
      read: (dst) => {
        const r = u.recv(dst, false);
        return typeof r === 'number' ? r : r.n;
      },
      write: (src) => u.send(src, null),
      readable: () => u.readable(),
      readiness: () => u.readiness(),
      subscribe: (cb) => u.subscribe(cb),
      waitLimitNs: (events) => ((events & POLLIN) !== 0 ? s.rcvTimeoNs : s.sndTimeoNs),
      release: () => u.release(),
    },
  };
}

/** The AF_INET socket behind a description, if it is one. */
export function inetOf(f: FileDescription): InetSocket | undefined {
  const i = f.inode;
  return i instanceof InetSocketInode ? i.socket : undefined;
}
