// A TCP connection endpoint of the netstack (RFC 9293): the state machine from LISTEN and
// SYN-SENT through ESTABLISHED to TIME-WAIT, sequence and acknowledgement numbers, the peer's
// window (with window scaling) limiting what is sent, a send buffer (unacknowledged and
// unsent bytes) and a receive queue whose free space is the advertised window, FIN in both
// directions, RST for a closed port, unread data at close or a connection never accepted,
// and a listener's accept queue. Segments travel through the stack (loopback delivers them
// back in order and never loses one, so nothing is retransmitted yet: there is no
// retransmission timer). No dependency on the rest of the Sentry; errors are negative errnos;
// never throws on a hostile segment.

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
import { INADDR_ANY } from './ipv4.js';
import type { Stack } from './stack.js';
import { ACK, FIN, PSH, RST, SYN, type TcpSegment, seqAdd, seqLe, seqLt } from './tcp.js';

/** net.ipv4.tcp_wmem[1] and tcp_rmem[1]: what SO_SNDBUF and SO_RCVBUF start at. */
export const TCP_SNDBUF_DEFAULT = 16384;
export const TCP_RCVBUF_DEFAULT = 131072;
/**
 * How far the buffers grow when the application never set SO_SNDBUF/SO_RCVBUF (Linux
 * autotunes them up to tcp_wmem[2]/tcp_rmem[2]; a smaller bound here keeps the Sentry's
 * memory per connection modest), and only while the stack holds little (Stack.roomToGrow,
 * as tcp_mem's pressure stops Linux's growth).
 */
const AUTOTUNED_MAX = 1 << 20;
/** Our window scale (as Linux advertises on a default receive buffer). */
const RCV_WSCALE = 7;
/** How long a connection stays in TIME-WAIT (TCP_TIMEWAIT_LEN). */
export const TIME_WAIT_NS = 60_000_000_000n;

export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'ESTABLISHED'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT';

/** The socket layer's view (struct socket's state): what connect(2) answers depends on it. */
export type SockState = 'unconnected' | 'connecting' | 'connected';

export class TcpEndpoint extends Notifier {
  state: TcpState = 'CLOSED';
  sockState: SockState = 'unconnected';
  localAddr = INADDR_ANY;
  localPort = 0;
  remoteAddr = INADDR_ANY;
  remotePort = 0;
  reuseAddr = false;
  portLocked = false;
  addrLocked = false;
  noDelay = false;
  sndbuf = TCP_SNDBUF_DEFAULT;
  rcvbuf = TCP_RCVBUF_DEFAULT;
  /** The application set SO_SNDBUF / SO_RCVBUF (SOCK_SNDBUF_LOCK): no autotuning. */
  sndbufLocked = false;
  rcvbufLocked = false;
  /** The application closed its last descriptor (the connection may live on, orphaned). */
  released = false;
  /** SHUT_RD by the application, or the connection is over (sk_shutdown). */
  shutRead = false;
  /** The application asked for SHUT_WR (the FIN goes once the send buffer is sent). */
  shutWrite = false;
  /** The peer's FIN arrived. */
  finReceived = false;
  timeWaitUntil = 0n;

  // Send side.
  private iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** The peer's window in bytes. */
  private sndWnd = 0;
  private sndWscale = 0;
  private peerMss = 536;
  /** Bytes from sndUna on: sent and unacknowledged, then unsent. */
  private sendQ: Uint8Array[] = [];
  private sendBytes = 0;
  private finSent = false;

  // Receive side.
  rcvNxt = 0;
  private readonly recvQ: Uint8Array[] = [];
  private recvOff = 0;
  recvBytes = 0;
  private lastWindow = 0;

  // Listening.
  readonly backlog: TcpEndpoint[] = [];
  maxBacklog = 0;
  /** SYNs that found the accept queue full: answered once accept makes room. */
  private readonly pendingSyns: Array<{ seg: TcpSegment; src: number; dst: number }> = [];
  /** The listener of a connection not yet accepted. */
  parent: TcpEndpoint | null = null;

  constructor(private readonly stack: Stack) {
    super();
  }

  get bound(): boolean {
    return this.localPort !== 0;
  }

  /** bind(2). */
  bind(addr: number, port: number): number {
    if (this.bound || this.state !== 'CLOSED') return -Errno.EINVAL;
    const r = this.stack.bindTcp(this, addr, port);
    if (r === 0) {
      this.portLocked = port !== 0;
      this.addrLocked = addr !== INADDR_ANY;
    }
    return r;
  }

  /** listen(2) with a backlog already capped at somaxconn. */
  listen(backlog: number): number {
    if (this.sockState !== 'unconnected') return -Errno.EINVAL;
    if (this.state !== 'CLOSED' && this.state !== 'LISTEN') return -Errno.EINVAL;
    if (!this.bound) {
      const r = this.stack.bindTcp(this, INADDR_ANY, 0);
      if (r < 0) return r;
    }
    this.maxBacklog = backlog;
    this.state = 'LISTEN';
    this.stack.batch(() => this.admitPending());
    this.notify();
    return 0;
  }

  /**
   * Starts an active open to (addr, port): -EISCONN / -EALREADY / -EINVAL by the socket's
   * state, -ENETUNREACH, -EADDRNOTAVAIL when no port is free; 0 once the SYN is out.
   */
  connect(addr: number, port: number): number {
    if (this.sockState === 'connected') return -Errno.EISCONN;
    if (this.sockState === 'connecting') return -Errno.EALREADY;
    if (this.state !== 'CLOSED') return -Errno.EISCONN;
    const src = this.stack.sourceFor(addr);
    if (src < 0) return src;
    const dst = addr === INADDR_ANY ? src : addr;
    if (this.localAddr === INADDR_ANY) this.localAddr = src;
    if (!this.bound) {
      // An ephemeral port of its own (-EADDRNOTAVAIL when none is free, as Linux).
      const r = this.stack.bindTcp(this, INADDR_ANY, 0);
      if (r < 0) return -Errno.EADDRNOTAVAIL;
    }
    this.remoteAddr = dst;
    this.remotePort = port;
    if (!this.stack.addConnection(this)) return -Errno.EADDRNOTAVAIL;
    this.iss = this.stack.newIss();
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.state = 'SYN_SENT';
    this.sockState = 'connecting';
    this.stack.batch(() =>
      this.emit({ seq: this.iss, ack: 0, flags: SYN, mss: this.stack.mss, wscale: RCV_WSCALE }),
    );
    return 0;
  }

  /** The window to advertise (scaled on everything but a SYN). */
  private window(syn: boolean): number {
    const free = Math.max(0, this.rcvLimit - this.recvBytes);
    this.lastWindow = free;
    return syn ? Math.min(free, 0xffff) : free >> RCV_WSCALE;
  }

  private emit(
    s: { seq: number; ack: number; flags: number; mss?: number; wscale?: number },
    payload: Uint8Array | { length: number; fill: (dst: Uint8Array) => void } = new Uint8Array(0),
  ): void {
    this.stack.sendTcp(
      this.localAddr,
      this.remoteAddr,
      {
        srcPort: this.localPort,
        dstPort: this.remotePort,
        seq: s.seq,
        ack: s.ack,
        flags: s.flags,
        window: this.window((s.flags & SYN) !== 0),
        ...(s.mss !== undefined ? { mss: s.mss } : {}),
        ...(s.wscale !== undefined ? { wscale: s.wscale } : {}),
      },
      payload,
    );
  }

  /** What the send queue and the receive queue may hold. */
  get sndLimit(): number {
    return this.sndbufLocked || !this.stack.roomToGrow()
      ? this.sndbuf
      : Math.max(this.sndbuf, AUTOTUNED_MAX);
  }
  get rcvLimit(): number {
    return this.rcvbufLocked || !this.stack.roomToGrow()
      ? this.rcvbuf
      : Math.max(this.rcvbuf, AUTOTUNED_MAX);
  }

  private sendAck(): void {
    this.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: ACK });
  }

  /** Sends what the peer's window allows, then the FIN once everything went out. */
  private pump(): void {
    const st = this.state;
    if (st !== 'ESTABLISHED' && st !== 'CLOSE_WAIT' && st !== 'FIN_WAIT1' && st !== 'LAST_ACK')
      return;
    for (;;) {
      const inFlight = (this.sndNxt - this.sndUna) >>> 0;
      const unsent = this.sendBytes - inFlight;
      if (unsent <= 0) break;
      const room = this.sndWnd - inFlight;
      const n = Math.min(unsent, room, this.peerMss);
      if (n <= 0) break;
      // The segment's bytes go straight from the send queue into the packet.
      const at = inFlight;
      this.emit(
        { seq: this.sndNxt, ack: this.rcvNxt, flags: ACK | PSH },
        { length: n, fill: (dst: Uint8Array) => this.peekInto(at, dst) },
      );
      this.sndNxt = seqAdd(this.sndNxt, n);
    }
    const inFlight = (this.sndNxt - this.sndUna) >>> 0;
    if (this.shutWrite && !this.finSent && inFlight === this.sendBytes) {
      this.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: FIN | ACK });
      this.sndNxt = seqAdd(this.sndNxt, 1);
      this.finSent = true;
      if (this.state === 'ESTABLISHED') this.state = 'FIN_WAIT1';
      else if (this.state === 'CLOSE_WAIT') this.state = 'LAST_ACK';
    }
  }

  /** Fills `out` with the send queue's bytes from offset `at`. */
  private peekInto(at: number, out: Uint8Array): void {
    const n = out.length;
    let got = 0;
    for (const c of this.sendQ) {
      if (got >= n) break;
      if (at >= c.length) {
        at -= c.length;
        continue;
      }
      const take = Math.min(c.length - at, n - got);
      out.set(c.subarray(at, at + take), got);
      got += take;
      at = 0;
    }
  }

  /** Drops `n` acknowledged bytes from the front of the send queue. */
  private dropSent(n: number): void {
    this.sendBytes -= n;
    this.stack.tcpBytes -= n;
    this.stack.memory.release(n);
    while (n > 0) {
      const c = this.sendQ[0];
      if (c === undefined) break;
      if (c.length <= n) {
        n -= c.length;
        this.sendQ.shift();
      } else {
        this.sendQ[0] = c.subarray(n);
        n = 0;
      }
    }
  }

  /**
   * Queues `data` to send: the bytes taken (up to the send buffer's room), -EAGAIN when full,
   * -EPIPE once the sending side is shut or the connection is gone (the caller raises
   * SIGPIPE), a pending error, -EPIPE before any connection.
   */
  send(data: Uint8Array): number {
    const st = this.state;
    if (st === 'SYN_SENT' || st === 'SYN_RECV') return -Errno.EAGAIN;
    if (st !== 'ESTABLISHED' && st !== 'CLOSE_WAIT') {
      if (this.error !== 0) return this.takeError();
      return -Errno.EPIPE;
    }
    if (this.error !== 0) return this.takeError();
    if (this.shutWrite) return -Errno.EPIPE;
    if (data.length === 0) return 0;
    const room = this.sndLimit - this.sendBytes;
    if (room <= 0) return -Errno.EAGAIN;
    const n = Math.min(room, data.length, this.stack.memory.room());
    if (n <= 0 || !this.stack.memory.charge(n)) return -Errno.EAGAIN;
    this.sendQ.push(data.slice(0, n));
    this.sendBytes += n;
    this.stack.tcpBytes += n;
    this.stack.batch(() => this.pump());
    return n;
  }

  /**
   * Receives into `dst` (peeking leaves the bytes): n 0 at end of stream; -EAGAIN when nothing
   * is there yet; a pending error once; -ENOTCONN before any connection.
   */
  recv(dst: Uint8Array, peek: boolean): number {
    if (this.recvBytes === 0) {
      if (this.finReceived) return 0;
      if (this.error !== 0) return this.takeError();
      if (this.shutRead) return 0;
      if (this.state === 'LISTEN' || this.state === 'CLOSED') return -Errno.ENOTCONN;
      return -Errno.EAGAIN;
    }
    let n = 0;
    let off = this.recvOff;
    for (const c of this.recvQ) {
      if (n >= dst.length) break;
      const take = Math.min(c.length - off, dst.length - n);
      dst.set(c.subarray(off, off + take), n);
      n += take;
      off = 0;
    }
    if (!peek) this.consume(n);
    return n;
  }

  private consume(n: number): void {
    this.recvBytes -= n;
    this.stack.tcpBytes -= n;
    this.stack.memory.release(n);
    while (n > 0) {
      const c = this.recvQ[0];
      if (c === undefined) break;
      const left = c.length - this.recvOff;
      if (left <= n) {
        n -= left;
        this.recvQ.shift();
        this.recvOff = 0;
      } else {
        this.recvOff += n;
        n = 0;
      }
    }
    // A window that was small has opened: tell the sender (a window update).
    const limit = this.rcvLimit;
    const free = limit - this.recvBytes;
    const st = this.state;
    if (
      this.lastWindow < limit / 2 &&
      free >= limit / 2 &&
      (st === 'ESTABLISHED' || st === 'FIN_WAIT1' || st === 'FIN_WAIT2')
    )
      this.stack.batch(() => this.sendAck());
  }

  /** FIONREAD. */
  readable(): number {
    return this.recvBytes;
  }

  /** shutdown(2): -ENOTCONN unless connected (or connecting). */
  shutdown(how: number): number {
    const st = this.state;
    if (st === 'CLOSED' || st === 'LISTEN' || st === 'SYN_SENT') {
      if (st === 'LISTEN' && (how === 0 || how === 2)) {
        this.closeListener();
        return 0;
      }
      return -Errno.ENOTCONN;
    }
    if (how === 0 || how === 2) this.shutRead = true;
    if (how === 1 || how === 2) {
      this.shutWrite = true;
      this.stack.batch(() => this.pump());
    }
    this.notify();
    return 0;
  }

  /** POLL* events ready now (tcp_poll). */
  readiness(): number {
    const st = this.state;
    if (st === 'LISTEN') return this.backlog.length > 0 ? POLLIN | POLLRDNORM : 0;
    let m = 0;
    if (this.error !== 0) m |= POLLERR;
    const shutAll = (this.shutWrite || this.finSent) && (this.finReceived || this.shutRead);
    if (shutAll || st === 'CLOSED') m |= POLLHUP;
    if (this.finReceived || this.shutRead) m |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (st === 'SYN_SENT' || st === 'SYN_RECV') return m;
    if (this.recvBytes > 0) m |= POLLIN | POLLRDNORM;
    if (st === 'ESTABLISHED' || st === 'CLOSE_WAIT') {
      if (!this.shutWrite && this.sendBytes < this.sndLimit && this.stack.memory.fits(1))
        m |= POLLOUT | POLLWRNORM | POLLWRBAND;
      else if (this.shutWrite) m |= POLLOUT | POLLWRNORM;
    } else if (st !== 'CLOSED' || this.sockState !== 'unconnected') {
      m |= POLLOUT | POLLWRNORM;
    } else m |= POLLOUT | POLLWRNORM;
    return m;
  }

  /** accept(2): the next established connection, -EAGAIN when none, -EINVAL unless listening. */
  accept(): TcpEndpoint | number {
    if (this.state !== 'LISTEN') return -Errno.EINVAL;
    const c = this.backlog.shift();
    if (c === undefined) return -Errno.EAGAIN;
    c.parent = null;
    c.sockState = 'connected';
    this.stack.batch(() => this.admitPending());
    return c;
  }

  /** Answers SYNs that waited for room in the accept queue. */
  private admitPending(): void {
    while (this.pendingSyns.length > 0 && this.backlog.length <= this.maxBacklog) {
      const p = this.pendingSyns.shift();
      if (p !== undefined) this.acceptSyn(p.seg, p.src, p.dst);
    }
  }

  // ---- segment arrival ----

  /** A segment for this listener. */
  listenInput(seg: TcpSegment, src: number, dst: number): void {
    if ((seg.flags & RST) !== 0) return;
    if ((seg.flags & ACK) !== 0) {
      this.stack.sendReset(dst, src, seg);
      return;
    }
    if ((seg.flags & SYN) === 0) return;
    if (this.backlog.length > this.maxBacklog) {
      // No retransmitted SYN will come over loopback: keep it until accept makes room.
      if (this.pendingSyns.length < 4096) this.pendingSyns.push({ seg, src, dst });
      return;
    }
    this.acceptSyn(seg, src, dst);
  }

  private acceptSyn(seg: TcpSegment, src: number, dst: number): void {
    const c = new TcpEndpoint(this.stack);
    c.localAddr = dst;
    c.localPort = this.localPort;
    c.remoteAddr = src;
    c.remotePort = seg.srcPort;
    c.sndbuf = this.sndbuf;
    c.rcvbuf = this.rcvbuf;
    c.sndbufLocked = this.sndbufLocked;
    c.rcvbufLocked = this.rcvbufLocked;
    c.noDelay = this.noDelay;
    c.reuseAddr = this.reuseAddr;
    c.parent = this;
    if (!this.stack.addConnection(c)) return;
    c.irsFrom(seg);
    c.iss = this.stack.newIss();
    c.sndUna = c.iss;
    c.sndNxt = seqAdd(c.iss, 1);
    c.state = 'SYN_RECV';
    c.emit({
      seq: c.iss,
      ack: c.rcvNxt,
      flags: SYN | ACK,
      mss: this.stack.mss,
      wscale: RCV_WSCALE,
    });
  }

  private irsFrom(seg: TcpSegment): void {
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.sndWscale = seg.wscale >= 0 ? seg.wscale : 0;
    if (seg.mss > 0) this.peerMss = Math.min(seg.mss, this.stack.mss);
    this.sndWnd = seg.window;
  }

  /** A segment for this connection. */
  input(seg: TcpSegment): void {
    const st = this.state;
    if (st === 'SYN_SENT') {
      this.synSentInput(seg);
      return;
    }
    if (st === 'CLOSED' || st === 'LISTEN') return;
    if (st === 'TIME_WAIT' && this.stack.now() >= this.timeWaitUntil) {
      this.finish();
      return;
    }
    const len = seg.payload.length + ((seg.flags & FIN) !== 0 ? 1 : 0);
    // In order only (loopback never reorders); anything else is answered with an ACK.
    if (seg.seq !== this.rcvNxt && !(len === 0 && seqLe(seg.seq, this.rcvNxt))) {
      if ((seg.flags & RST) === 0) this.sendAck();
      return;
    }
    if ((seg.flags & RST) !== 0) {
      // tcp_reset: a connection whose peer had already finished sending hears EPIPE.
      const err = st === 'SYN_RECV' ? 0 : st === 'CLOSE_WAIT' ? Errno.EPIPE : Errno.ECONNRESET;
      this.reset(err);
      return;
    }
    if ((seg.flags & SYN) !== 0) {
      this.sendAck();
      return;
    }
    if ((seg.flags & ACK) === 0) return;
    if (st === 'SYN_RECV') {
      if (seg.ack !== this.sndNxt) {
        this.stack.sendReset(this.localAddr, this.remoteAddr, seg);
        return;
      }
      this.state = 'ESTABLISHED';
      this.sndUna = seg.ack;
      this.sndWnd = seg.window << this.sndWscale;
      const p = this.parent;
      if (p !== null && p.state === 'LISTEN') {
        p.backlog.push(this);
        p.notify();
      }
    } else if (seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndNxt)) {
      let acked = (seg.ack - this.sndUna) >>> 0;
      const finAcked = this.finSent && seg.ack === this.sndNxt;
      if (finAcked) acked -= 1;
      this.dropSent(Math.min(acked, this.sendBytes));
      this.sndUna = seg.ack;
      if (finAcked) {
        if (this.state === 'FIN_WAIT1') this.state = 'FIN_WAIT2';
        else if (this.state === 'CLOSING') this.enterTimeWait();
        else if (this.state === 'LAST_ACK') {
          this.finish();
          return;
        }
      }
      this.notify();
    }
    if (seqLe(this.sndUna, seg.ack)) this.sndWnd = seg.window << this.sndWscale;
    let ack = false;
    if (seg.payload.length > 0) {
      const s = this.state;
      if (s === 'ESTABLISHED' || s === 'FIN_WAIT1' || s === 'FIN_WAIT2') {
        if (this.released || this.shutRead) {
          // Data for a socket nobody will read: the connection is reset, as Linux does.
          this.stack.sendReset(this.localAddr, this.remoteAddr, seg);
          this.finish();
          return;
        }
        const take = Math.min(
          seg.payload.length,
          Math.max(0, this.rcvLimit - this.recvBytes) + 65536,
        );
        // The packet is the stack's own and never reused: its payload is kept, not copied.
        this.recvQ.push(seg.payload.subarray(0, take));
        this.recvBytes += take;
        this.stack.tcpBytes += take;
        this.stack.memory.force(take);
        this.rcvNxt = seqAdd(this.rcvNxt, take);
        ack = true;
        this.notify();
      }
    }
    if ((seg.flags & FIN) !== 0 && !this.finReceived) {
      this.finReceived = true;
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      ack = true;
      if (this.state === 'ESTABLISHED' || this.state === 'SYN_RECV') this.state = 'CLOSE_WAIT';
      else if (this.state === 'FIN_WAIT1') this.state = 'CLOSING';
      else if (this.state === 'FIN_WAIT2') this.enterTimeWait();
      this.notify();
    }
    if (ack) this.sendAck();
    this.pump();
    if (this.released && this.state === 'CLOSE_WAIT') {
      this.shutWrite = true;
      this.pump();
    }
  }

  private synSentInput(seg: TcpSegment): void {
    if ((seg.flags & ACK) !== 0 && seg.ack !== this.sndNxt) {
      if ((seg.flags & RST) === 0) this.stack.sendReset(this.localAddr, this.remoteAddr, seg);
      return;
    }
    if ((seg.flags & RST) !== 0) {
      if ((seg.flags & ACK) !== 0) this.reset(Errno.ECONNREFUSED);
      return;
    }
    if ((seg.flags & SYN) === 0 || (seg.flags & ACK) === 0) return;
    this.irsFrom(seg);
    this.sndUna = seg.ack;
    this.sndWnd = seg.window << this.sndWscale;
    this.state = 'ESTABLISHED';
    this.sendAck();
    this.notify();
  }

  private enterTimeWait(): void {
    this.state = 'TIME_WAIT';
    this.timeWaitUntil = this.stack.now() + TIME_WAIT_NS;
    this.notify();
  }

  /** The connection was reset (or refused): the error is kept for the application. */
  private reset(err: number): void {
    const p = this.parent;
    if (p !== null) {
      const i = p.backlog.indexOf(this);
      if (i >= 0) p.backlog.splice(i, 1);
      this.parent = null;
    }
    if (err !== 0) this.error = err;
    this.shutRead = true;
    this.finish();
  }

  /** The connection is over: out of the tables (the socket stays bound if the app holds it). */
  finish(): void {
    this.state = 'CLOSED';
    this.recvQ.length = 0;
    this.stack.tcpBytes -= this.recvBytes + this.sendBytes;
    this.stack.memory.release(this.recvBytes + this.sendBytes);
    this.recvBytes = 0;
    this.sendQ = [];
    this.sendBytes = 0;
    this.stack.removeConnection(this);
    if (this.released) this.stack.unbindTcp(this);
    this.notify();
  }

  private closeListener(): void {
    for (const c of this.backlog.splice(0)) c.abort();
    this.pendingSyns.length = 0;
    this.state = 'CLOSED';
    this.notify();
  }

  /** Ends the connection with a RST to the peer. */
  abort(): void {
    if (this.state !== 'CLOSED' && this.state !== 'LISTEN' && this.state !== 'SYN_SENT') {
      this.stack.batch(() => this.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: RST | ACK }));
    }
    this.released = true;
    this.finish();
  }

  /**
   * The application closed its last descriptor: a listener drops its queue (resetting those
   * connections), unread data resets the connection, otherwise the FIN goes after what is
   * still to send and the connection finishes on its own (orphaned), as tcp_close.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    const st = this.state;
    if (st === 'LISTEN') {
      this.stack.batch(() => this.closeListener());
      this.stack.unbindTcp(this);
      return;
    }
    if (st === 'CLOSED' || st === 'SYN_SENT' || st === 'TIME_WAIT') {
      if (st === 'SYN_SENT') this.stack.removeConnection(this);
      if (st !== 'TIME_WAIT') {
        this.state = 'CLOSED';
        this.stack.unbindTcp(this);
      }
      return;
    }
    if (this.recvBytes > 0) {
      this.abort();
      return;
    }
    this.shutWrite = true;
    this.stack.batch(() => this.pump());
  }
}
