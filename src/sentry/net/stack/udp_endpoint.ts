// A UDP socket of the netstack, as Linux's udp.c keeps one: bound to a local address and port
// (an ephemeral one when the application does not choose), optionally connected to one peer
// (then it only hears that peer, and an ICMP port-unreachable from it is reported once as
// ECONNREFUSED), with a receive queue of datagrams and their sources bounded by its receive
// buffer. No dependency on the rest of the Sentry; errors are negative errnos; never throws.

import { Errno } from '../../../abi/linux/errno.js';
import {
  Notifier,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLRDHUP,
  POLLRDNORM,
  POLLWRBAND,
  POLLWRNORM,
} from '../notifier.js';
import { INADDR_ANY, IPV4_HEADER, IPV4_MAX } from './ipv4.js';
import type { Stack } from './stack.js';
import { UDP_HEADER } from './udp.js';

/** The largest payload of one datagram. */
export const UDP_MAX_PAYLOAD = IPV4_MAX - IPV4_HEADER - UDP_HEADER;
/** What a queued datagram costs the receive buffer beyond its bytes (an skb's overhead). */
const DATAGRAM_OVERHEAD = 768;
export const UDP_BUF_DEFAULT = 212992;

export interface UdpReceived {
  n: number;
  /** The datagram's full length (MSG_TRUNC). */
  full: number;
  addr: number;
  port: number;
}

interface Datagram {
  data: Uint8Array;
  addr: number;
  port: number;
}

export class UdpEndpoint extends Notifier {
  localAddr = INADDR_ANY;
  localPort = 0;
  remoteAddr = INADDR_ANY;
  remotePort = 0;
  connected = false;
  reuseAddr = false;
  /** The application chose the port / the address (SOCK_BINDPORT_LOCK, SOCK_BINDADDR_LOCK). */
  private portLocked = false;
  private addrLocked = false;
  sndbuf = UDP_BUF_DEFAULT;
  rcvbuf = UDP_BUF_DEFAULT;
  shutRead = false;
  shutWrite = false;
  /** Datagrams dropped for want of receive buffer. */
  drops = 0;
  private readonly queue: Datagram[] = [];
  private queuedCost = 0;
  private released = false;

  constructor(private readonly stack: Stack) {
    super();
  }

  get bound(): boolean {
    return this.localPort !== 0;
  }

  /** bind(2): -EINVAL when already bound; the stack's errors otherwise. */
  bind(addr: number, port: number): number {
    if (this.bound) return -Errno.EINVAL;
    const r = this.stack.bindUdp(this, addr, port);
    if (r === 0) {
      this.portLocked = port !== 0;
      this.addrLocked = addr !== INADDR_ANY;
    }
    return r;
  }

  /** Binds to an ephemeral port (on INADDR_ANY) if the socket is not bound yet. */
  private autobind(): number {
    return this.bound ? 0 : this.stack.bindUdp(this, INADDR_ANY, 0);
  }

  /**
   * connect(2): the default destination and the only source heard; INADDR_ANY means this
   * host. The socket is bound (an ephemeral port) and takes the route's source address if it
   * had none, as ip4_datagram_connect.
   */
  connect(addr: number, port: number): number {
    const src = this.stack.sourceFor(addr);
    if (src < 0) return src;
    const b = this.autobind();
    if (b < 0) return b;
    if (this.localAddr === INADDR_ANY) this.localAddr = src;
    this.remoteAddr = addr === INADDR_ANY ? src : addr;
    this.remotePort = port;
    this.connected = true;
    this.notify();
    return 0;
  }

  /**
   * connect(2) with AF_UNSPEC: forgets the peer, and gives back the source address and port
   * the stack chose (what the application bound stays), as __udp_disconnect.
   */
  disconnect(): void {
    this.connected = false;
    this.remoteAddr = INADDR_ANY;
    this.remotePort = 0;
    if (!this.addrLocked) this.localAddr = INADDR_ANY;
    if (!this.portLocked && this.bound) {
      this.stack.unbindUdp(this);
      this.localPort = 0;
    }
  }

  /**
   * Sends one datagram to `to`, or to the peer: the bytes sent, -EDESTADDRREQ (no
   * destination), -EINVAL (port 0), -EMSGSIZE, -ENETUNREACH, -EPIPE (shut), or a pending error.
   */
  send(data: Uint8Array, to: { addr: number; port: number } | null): number {
    if (this.error !== 0) return this.takeError();
    if (this.shutWrite) return -Errno.EPIPE;
    let dst: { addr: number; port: number };
    if (to !== null) {
      if (to.port === 0) return -Errno.EINVAL;
      dst = to;
    } else {
      if (!this.connected) return -Errno.EDESTADDRREQ;
      dst = { addr: this.remoteAddr, port: this.remotePort };
    }
    if (data.length > UDP_MAX_PAYLOAD) return -Errno.EMSGSIZE;
    const src = this.stack.sourceFor(dst.addr);
    if (src < 0) return src;
    const b = this.autobind();
    if (b < 0) return b;
    this.stack.sendUdp(
      this.localAddr === INADDR_ANY ? src : this.localAddr,
      this.localPort,
      dst.addr,
      dst.port,
      data,
    );
    return data.length;
  }

  /** A datagram from the stack; dropped when the receive buffer is full. */
  deliver(data: Uint8Array, addr: number, port: number): void {
    if (this.released || this.shutRead) return;
    const cost = data.length + DATAGRAM_OVERHEAD;
    if (this.queuedCost > 0 && this.queuedCost + cost > this.rcvbuf) {
      this.drops++;
      return;
    }
    // Past the sandbox's socket memory, datagrams are dropped (as under memory pressure).
    if (!this.stack.memory.charge(data.length)) {
      this.drops++;
      return;
    }
    this.queue.push({ data: data.slice(), addr, port });
    this.queuedCost += cost;
    this.notify();
  }

  /** An ICMP error about a datagram this socket sent to (addr, port). */
  icmpError(errno: number, addr: number, port: number): void {
    // Only a connected socket hears of it (without IP_RECVERR), as Linux.
    if (!this.connected || addr !== this.remoteAddr || port !== this.remotePort) return;
    this.error = errno;
    this.notify();
  }

  /** One datagram into `dst` (the rest dropped unless peeking); -EAGAIN when none is there. */
  recv(dst: Uint8Array, peek: boolean): UdpReceived | number {
    const d = this.queue[0];
    if (d === undefined) {
      if (this.error !== 0) return this.takeError();
      if (this.shutRead) return { n: 0, full: 0, addr: INADDR_ANY, port: 0 };
      return -Errno.EAGAIN;
    }
    const n = Math.min(dst.length, d.data.length);
    dst.set(d.data.subarray(0, n));
    if (!peek) {
      this.queue.shift();
      this.queuedCost -= d.data.length + DATAGRAM_OVERHEAD;
      this.stack.memory.release(d.data.length);
    }
    return { n, full: d.data.length, addr: d.addr, port: d.port };
  }

  /** FIONREAD: the next datagram's length. */
  readable(): number {
    return this.queue[0]?.data.length ?? 0;
  }

  /** POLL* events ready now (datagram_poll). */
  readiness(): number {
    let m = POLLOUT | POLLWRNORM | POLLWRBAND;
    if (this.error !== 0) m |= POLLERR;
    if (this.shutRead) m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.shutRead && this.shutWrite) m |= POLLHUP;
    if (this.queue.length > 0) m |= POLLIN | POLLRDNORM;
    return m;
  }

  /** shutdown(2): the bits are set even when unconnected, which answers ENOTCONN, as Linux. */
  shutdown(how: number): number {
    if (how === 0 || how === 2) this.shutRead = true;
    if (how === 1 || how === 2) this.shutWrite = true;
    this.notify();
    return this.connected ? 0 : -Errno.ENOTCONN;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.bound) this.stack.unbindUdp(this);
    for (const d of this.queue) this.stack.memory.release(d.data.length);
    this.queue.length = 0;
    this.queuedCost = 0;
  }
}
