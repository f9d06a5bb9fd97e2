// The Sentry's own network stack (the netstack): the application's packets are built, carried
// and demultiplexed here and never meet the host's TCP/IP code. This is the IPv4 layer, one
// loopback interface (lo, 127.0.0.0/8, MTU 65536) whose packets are delivered back into the
// stack, ICMP (echo, port unreachable), and the UDP port table. TCP, IPv6 and an ethernet link
// slot in beside them. No dependency on the rest of the Sentry; errors are negative errnos;
// never throws on a hostile packet (it is dropped and counted).

import { Errno } from '../../../abi/linux/errno.js';
import { SocketMemory } from '../notifier.js';
import {
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHO_REPLY,
  ICMP_PORT_UNREACH,
  buildIcmp,
  parseIcmp,
  quoted,
  unreachable,
} from './icmp.js';
import {
  INADDR_ANY,
  INADDR_LOOPBACK,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_HEADER,
  buildIpv4,
  isLoopback,
  parseIpv4,
  writeIpv4Header,
} from './ipv4.js';
import { ACK, RST, type TcpSegment, buildTcp, parseTcp, seqAdd } from './tcp.js';
import type { TcpEndpoint } from './tcp_endpoint.js';
import { buildUdp, parseUdp } from './udp.js';
import type { UdpEndpoint } from './udp_endpoint.js';

/** net.ipv4.ip_local_port_range. */
export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;
export const LOOPBACK_MTU = 65536;
/** The MSS the stack offers on loopback (the MTU less IPv4 and TCP headers and options). */
const LOOPBACK_MSS = 65483;
/** What all TCP queues may hold before buffers stop autotuning (cf. net.ipv4.tcp_mem). */
const TCP_GROWTH_LIMIT = 64 << 20;

/** What the stack counts (drops with their reason, packets by protocol). */
export interface StackStats {
  ipIn: number;
  ipOut: number;
  /** Bytes of the datagrams sent over loopback (each also received). */
  ipOutBytes: number;
  udpIn: number;
  udpOut: number;
  udpNoPort: number;
  tcpIn: number;
  tcpOut: number;
  tcpResets: number;
  icmpIn: number;
  icmpOut: number;
  dropped: Map<string, number>;
}

export class Stack {
  readonly mss = LOOPBACK_MSS;
  /**
   * The only link is loopback, whose packets never leave the stack: TCP checksums are neither
   * computed nor verified (checksum offload, as Linux's lo). IPv4 header checksums still are.
   */
  readonly checksumOffload = true;
  /** TCP sockets bound to each port (listeners, connections, TIME-WAIT). */
  private readonly tcpPorts = new Map<number, TcpEndpoint[]>();
  /** TCP connections by their four-tuple. */
  private readonly tcpConns = new Map<string, TcpEndpoint>();
  private nextTcpPort = EPHEMERAL_FIRST;
  /** Bytes held in all TCP send and receive queues. */
  tcpBytes = 0;

  constructor(
    /** Monotonic nanoseconds (TIME-WAIT). */
    readonly now: () => bigint = () => process.hrtime.bigint(),
    /** The budget of bytes its queues may hold (shared with the sandbox's Unix sockets). */
    readonly memory: SocketMemory = new SocketMemory(),
  ) {}

  /** UDP sockets bound to each port. */
  private readonly udpPorts = new Map<number, UdpEndpoint[]>();
  private nextPort = EPHEMERAL_FIRST;
  private readonly inbound: Uint8Array[] = [];
  private draining = false;
  readonly stats: StackStats = {
    ipIn: 0,
    ipOut: 0,
    ipOutBytes: 0,
    udpIn: 0,
    udpOut: 0,
    udpNoPort: 0,
    tcpIn: 0,
    tcpOut: 0,
    tcpResets: 0,
    icmpIn: 0,
    icmpOut: 0,
    dropped: new Map(),
  };

  /** An address of one of the stack's interfaces (lo holds all of 127.0.0.0/8). */
  isLocal(a: number): boolean {
    return isLoopback(a);
  }

  /**
   * The source address for a packet to `dst` (INADDR_ANY meaning this host), or -ENETUNREACH
   * when no interface reaches it (only loopback exists until a network is attached).
   */
  sourceFor(dst: number): number {
    if (dst === INADDR_ANY || isLoopback(dst)) return INADDR_LOOPBACK;
    return -Errno.ENETUNREACH;
  }

  private drop(why: string): void {
    this.stats.dropped.set(why, (this.stats.dropped.get(why) ?? 0) + 1);
  }

  /**
   * Runs `fn` with packet delivery held back: what it sends is processed after it returns (and
   * what that processing sends, after it), so no endpoint is ever re-entered mid-operation.
   */
  batch<T>(fn: () => T): T {
    if (this.draining) return fn();
    this.draining = true;
    try {
      const r = fn();
      for (let p = this.inbound.shift(); p !== undefined; p = this.inbound.shift())
        this.inputOne(p);
      return r;
    } finally {
      this.draining = false;
    }
  }

  /** Sends an IPv4 datagram: over loopback, it comes back in once the current batch is done. */
  private output(src: number, dst: number, proto: number, payload: Uint8Array): void {
    this.stats.ipOut++;
    const pkt = buildIpv4(src, dst, proto, payload);
    this.stats.ipOutBytes += pkt.length;
    this.inbound.push(pkt);
    if (!this.draining) this.batch(() => undefined);
  }

  /** A datagram arriving from a link. */
  input(b: Uint8Array): void {
    this.batch(() => this.inputOne(b));
  }

  private inputOne(b: Uint8Array): void {
    const p = parseIpv4(b);
    if (typeof p === 'string') {
      this.drop(`ipv4: ${p}`);
      return;
    }
    this.stats.ipIn++;
    if (!this.isLocal(p.dst)) {
      this.drop('ipv4: not for this host');
      return;
    }
    if (p.proto === IPPROTO_UDP) this.udpInput(p.src, p.dst, p.header, p.payload);
    else if (p.proto === IPPROTO_TCP) this.tcpInput(p.src, p.dst, p.payload);
    else if (p.proto === IPPROTO_ICMP) this.icmpInput(p.src, p.dst, p.payload);
    else this.drop(`ipv4: protocol ${p.proto}`);
  }

  // ---- TCP ----

  private static connKey(la: number, lp: number, ra: number, rp: number): string {
    return `${la}:${lp}:${ra}:${rp}`;
  }

  private tcpInput(src: number, dst: number, payload: Uint8Array): void {
    const seg = parseTcp(payload, src, dst, !this.checksumOffload);
    if (typeof seg === 'string') {
      this.drop(`tcp: ${seg}`);
      return;
    }
    this.stats.tcpIn++;
    const c = this.tcpConns.get(Stack.connKey(dst, seg.dstPort, src, seg.srcPort));
    if (c !== undefined) {
      c.input(seg);
      return;
    }
    const l = (this.tcpPorts.get(seg.dstPort) ?? []).find(
      (e) => e.state === 'LISTEN' && (e.localAddr === INADDR_ANY || e.localAddr === dst),
    );
    if (l !== undefined) l.listenInput(seg, src, dst);
    else this.sendReset(dst, src, seg);
  }

  /** Answers a segment that has no connection with a RST (never a RST with a RST). */
  sendReset(src: number, dst: number, seg: TcpSegment): void {
    if ((seg.flags & RST) !== 0) return;
    this.stats.tcpResets++;
    const len = seg.payload.length + ((seg.flags & 0x03) !== 0 ? 1 : 0);
    const ack = (seg.flags & ACK) !== 0;
    this.sendTcp(
      src,
      dst,
      {
        srcPort: seg.dstPort,
        dstPort: seg.srcPort,
        seq: ack ? seg.ack : 0,
        ack: ack ? 0 : seqAdd(seg.seq, len),
        flags: ack ? RST : RST | ACK,
        window: 0,
      },
      new Uint8Array(0),
    );
  }

  sendTcp(
    src: number,
    dst: number,
    s: Omit<TcpSegment, 'payload' | 'mss' | 'wscale'> & { mss?: number; wscale?: number },
    payload: Uint8Array | { length: number; fill: (dst: Uint8Array) => void },
  ): void {
    this.stats.tcpOut++;
    // Built in one buffer with room for the IPv4 header: the payload is copied once.
    const pkt = buildTcp(src, dst, s, payload, !this.checksumOffload, IPV4_HEADER);
    writeIpv4Header(pkt, src, dst, IPPROTO_TCP);
    this.stats.ipOut++;
    this.stats.ipOutBytes += pkt.length;
    this.inbound.push(pkt);
    if (!this.draining) this.batch(() => undefined);
  }

  /** Whether TCP buffers may grow past their defaults (the stack holds under 64 MiB). */
  roomToGrow(): boolean {
    return this.tcpBytes < TCP_GROWTH_LIMIT;
  }

  /** A fresh initial sequence number. */
  newIss(): number {
    return crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
  }

  /** Ends TIME-WAIT connections whose time is up (their ports come free). */
  private expire(list: readonly TcpEndpoint[]): void {
    const now = this.now();
    for (const e of [...list]) if (e.state === 'TIME_WAIT' && now >= e.timeWaitUntil) e.finish();
  }

  /**
   * Binds a TCP socket (inet_csk_get_port, simplified): a port is shared only when both
   * sides set SO_REUSEADDR and the other is not listening; port 0 picks a free ephemeral one.
   */
  bindTcp(ep: TcpEndpoint, addr: number, port: number): number {
    if (addr !== INADDR_ANY && !this.isLocal(addr)) return -Errno.EADDRNOTAVAIL;
    const clash = (p: number): boolean => {
      const list = this.tcpPorts.get(p) ?? [];
      this.expire(list);
      return (this.tcpPorts.get(p) ?? []).some(
        (o) =>
          o !== ep &&
          (o.localAddr === INADDR_ANY || addr === INADDR_ANY || o.localAddr === addr) &&
          !(ep.reuseAddr && o.reuseAddr && o.state !== 'LISTEN'),
      );
    };
    if (port === 0) {
      const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
      for (let i = 0; i < span; i++) {
        const p = this.nextTcpPort;
        this.nextTcpPort = p === EPHEMERAL_LAST ? EPHEMERAL_FIRST : p + 1;
        if (!clash(p)) {
          port = p;
          break;
        }
      }
      if (port === 0) return -Errno.EADDRINUSE;
    } else if (clash(port)) return -Errno.EADDRINUSE;
    const list = this.tcpPorts.get(port) ?? [];
    list.push(ep);
    this.tcpPorts.set(port, list);
    ep.localAddr = addr === INADDR_ANY ? ep.localAddr : addr;
    ep.localPort = port;
    return 0;
  }

  unbindTcp(ep: TcpEndpoint): void {
    const list = this.tcpPorts.get(ep.localPort);
    if (list === undefined) return;
    const i = list.indexOf(ep);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.tcpPorts.delete(ep.localPort);
  }

  /** Enters a connection in the table; false when its four-tuple is taken. */
  addConnection(ep: TcpEndpoint): boolean {
    const k = Stack.connKey(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort);
    const old = this.tcpConns.get(k);
    if (old !== undefined) {
      this.expire([old]);
      if (this.tcpConns.has(k)) return false;
    }
    this.tcpConns.set(k, ep);
    if (ep.parent !== null) {
      // A passive connection shares its listener's port.
      const list = this.tcpPorts.get(ep.localPort) ?? [];
      list.push(ep);
      this.tcpPorts.set(ep.localPort, list);
    }
    return true;
  }

  removeConnection(ep: TcpEndpoint): void {
    const k = Stack.connKey(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort);
    if (this.tcpConns.get(k) === ep) this.tcpConns.delete(k);
  }

  /** The TCP sockets (for /proc/net/tcp). */
  tcpSockets(): TcpEndpoint[] {
    return [...this.tcpPorts.values()].flat();
  }

  private udpInput(src: number, dst: number, header: Uint8Array, payload: Uint8Array): void {
    const d = parseUdp(payload, src, dst);
    if (typeof d === 'string') {
      this.drop(`udp: ${d}`);
      return;
    }
    this.stats.udpIn++;
    const ep = this.udpLookup(dst, d.dstPort, src, d.srcPort);
    if (ep === undefined) {
      this.stats.udpNoPort++;
      this.stats.icmpOut++;
      this.output(dst, src, IPPROTO_ICMP, unreachable(ICMP_PORT_UNREACH, header, payload));
      return;
    }
    ep.deliver(d.payload, src, d.srcPort);
  }

  private icmpInput(src: number, dst: number, payload: Uint8Array): void {
    const m = parseIcmp(payload);
    if (typeof m === 'string') {
      this.drop(`icmp: ${m}`);
      return;
    }
    this.stats.icmpIn++;
    if (m.type === ICMP_ECHO) {
      this.stats.icmpOut++;
      this.output(dst, src, IPPROTO_ICMP, buildIcmp(ICMP_ECHO_REPLY, 0, m.rest));
      return;
    }
    if (m.type === ICMP_DEST_UNREACH && m.code === ICMP_PORT_UNREACH) {
      const q = quoted(m.rest);
      if (q === undefined || q.proto !== IPPROTO_UDP) return;
      const v = new DataView(q.head.buffer, q.head.byteOffset, 8);
      const ep = this.udpLookup(q.src, v.getUint16(0), q.dst, v.getUint16(2));
      ep?.icmpError(Errno.ECONNREFUSED, q.dst, v.getUint16(2));
    }
  }

  /**
   * The UDP socket a datagram to (dst, dport) from (src, sport) goes to, as Linux scores them:
   * a connected socket must match its peer; a specific local address beats INADDR_ANY.
   */
  private udpLookup(
    dst: number,
    dport: number,
    src: number,
    sport: number,
  ): UdpEndpoint | undefined {
    let best: UdpEndpoint | undefined;
    let bestScore = -1;
    for (const ep of this.udpPorts.get(dport) ?? []) {
      let score = 0;
      if (ep.localAddr !== INADDR_ANY) {
        if (ep.localAddr !== dst) continue;
        score += 4;
      }
      if (ep.connected) {
        if (ep.remoteAddr !== src || ep.remotePort !== sport) continue;
        score += 8;
      }
      if (score > bestScore) {
        best = ep;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * Binds `ep` to (addr, port); port 0 picks a free ephemeral port. -EADDRNOTAVAIL for an
   * address of no interface, -EADDRINUSE when taken (unless both sides set SO_REUSEADDR),
   * -EAGAIN when no ephemeral port is free.
   */
  bindUdp(ep: UdpEndpoint, addr: number, port: number): number {
    if (addr !== INADDR_ANY && !this.isLocal(addr)) return -Errno.EADDRNOTAVAIL;
    const clash = (p: number): boolean =>
      (this.udpPorts.get(p) ?? []).some(
        (o) =>
          (o.localAddr === INADDR_ANY || addr === INADDR_ANY || o.localAddr === addr) &&
          !(o.reuseAddr && ep.reuseAddr),
      );
    if (port === 0) {
      const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
      for (let i = 0; i < span; i++) {
        const p = this.nextPort;
        this.nextPort = p === EPHEMERAL_LAST ? EPHEMERAL_FIRST : p + 1;
        if (!clash(p)) {
          port = p;
          break;
        }
      }
      if (port === 0) return -Errno.EAGAIN;
    } else if (clash(port)) return -Errno.EADDRINUSE;
    const list = this.udpPorts.get(port) ?? [];
    list.push(ep);
    this.udpPorts.set(port, list);
    ep.localAddr = addr;
    ep.localPort = port;
    return 0;
  }

  unbindUdp(ep: UdpEndpoint): void {
    const list = this.udpPorts.get(ep.localPort);
    if (list === undefined) return;
    const i = list.indexOf(ep);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.udpPorts.delete(ep.localPort);
  }

  /** Sends a UDP datagram (the caller has checked its size and chosen its source). */
  sendUdp(src: number, sport: number, dst: number, dport: number, payload: Uint8Array): void {
    this.stats.udpOut++;
    this.output(
      src,
      dst === INADDR_ANY ? INADDR_LOOPBACK : dst,
      IPPROTO_UDP,
      buildUdp(src, dst === INADDR_ANY ? INADDR_LOOPBACK : dst, sport, dport, payload),
    );
  }

  /** The bound UDP sockets (for /proc/net/udp). */
  udpSockets(): UdpEndpoint[] {
    return [...this.udpPorts.values()].flat();
  }
}
