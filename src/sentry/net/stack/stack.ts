// The Sentry's own network stack (the netstack): the application's packets are built, carried
// and demultiplexed here and never meet the host's TCP/IP code. This is the IPv4 layer, one
// loopback interface (lo, 127.0.0.0/8, MTU 65536) whose packets are delivered back into the
// stack, ICMP (echo, port unreachable), and the UDP port table. TCP, IPv6 and an ethernet link
// slot in beside them. No dependency on the rest of the Sentry; errors are negative errnos;
// never throws on a hostile packet (it is dropped and counted).

import { Errno } from '../../../abi/linux/errno.js';
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
  IPPROTO_UDP,
  buildIpv4,
  isLoopback,
  parseIpv4,
} from './ipv4.js';
import { buildUdp, parseUdp } from './udp.js';
import type { UdpEndpoint } from './udp_endpoint.js';

/** net.ipv4.ip_local_port_range. */
export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;
export const LOOPBACK_MTU = 65536;

/** What the stack counts (drops with their reason, packets by protocol). */
export interface StackStats {
  ipIn: number;
  ipOut: number;
  udpIn: number;
  udpOut: number;
  udpNoPort: number;
  icmpIn: number;
  icmpOut: number;
  dropped: Map<string, number>;
}

export class Stack {
  /** UDP sockets bound to each port. */
  private readonly udpPorts = new Map<number, UdpEndpoint[]>();
  private nextPort = EPHEMERAL_FIRST;
  private readonly inbound: Uint8Array[] = [];
  private draining = false;
  readonly stats: StackStats = {
    ipIn: 0,
    ipOut: 0,
    udpIn: 0,
    udpOut: 0,
    udpNoPort: 0,
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

  /** Sends an IPv4 datagram: over loopback, it comes straight back in (after this call's own). */
  private output(src: number, dst: number, proto: number, payload: Uint8Array): void {
    this.stats.ipOut++;
    this.inbound.push(buildIpv4(src, dst, proto, payload));
    if (this.draining) return;
    this.draining = true;
    try {
      for (let p = this.inbound.shift(); p !== undefined; p = this.inbound.shift()) this.input(p);
    } finally {
      this.draining = false;
    }
  }

  /** A datagram arriving from a link. */
  input(b: Uint8Array): void {
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
    else if (p.proto === IPPROTO_ICMP) this.icmpInput(p.src, p.dst, p.payload);
    else this.drop(`ipv4: protocol ${p.proto}`);
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
