// An AF_INET socket as the Sentry's file layer sees it: the netstack's endpoint (UDP for now)
// behind an inode of sockfs and a FileImpl (read/write are recv/send without an address),
// with the socket-level state the stack does not keep (options, timeouts). The packets never
// reach the host. Never throws.

import { Errno } from '../../abi/linux/errno.js';
import { S_IFSOCK, type Stat } from '../../abi/linux/file.js';
import type { FileDescription } from '../vfs/file_description.js';
import { type FileImpl, type Inode, emptyInodeStat } from '../vfs/inode.js';
import type { Stack } from './stack/stack.js';
import { UdpEndpoint } from './stack/udp_endpoint.js';
import { type PeerCred, type SockFilesystem, theSockFs } from './unix_socket.js';

const POLLIN = 0x1;
export const AF_INET = 2;
export const IPPROTO_UDP = 17;

export class InetSocket {
  readonly udp: UdpEndpoint;
  /** Options kept without effect on the stack (SO_KEEPALIVE, SO_LINGER…). */
  readonly options = new Map<number, number | readonly [number, number]>();
  rcvTimeoNs = 0n;
  sndTimeoNs = 0n;
  readonly listening = false;

  constructor(
    stack: Stack,
    readonly type: number,
    readonly protocol: number,
  ) {
    this.udp = new UdpEndpoint(stack);
  }

  get sndbuf(): number {
    return this.udp.sndbuf;
  }
  set sndbuf(v: number) {
    this.udp.sndbuf = v;
  }
  get rcvbuf(): number {
    return this.udp.rcvbuf;
  }
  set rcvbuf(v: number) {
    this.udp.rcvbuf = v;
  }
  takeError(): number {
    return this.udp.takeError();
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
