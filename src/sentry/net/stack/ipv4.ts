// IPv4 (RFC 791) on the wire: parsing a datagram with every check a receiver must make
// (version, header length, total length against what arrived, header checksum; fragments are
// refused here) and building one. Addresses are unsigned 32-bit numbers in host order. Pure:
// no dependency on the rest of the Sentry; never throws on hostile input.

import { checksum } from './checksum.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_HEADER = 20;
export const INADDR_ANY = 0;
export const INADDR_LOOPBACK = 0x7f000001;
export const DEFAULT_TTL = 64;
/** The largest datagram (total length field). */
export const IPV4_MAX = 65535;

export interface Ipv4Packet {
  src: number;
  dst: number;
  proto: number;
  ttl: number;
  /** The header bytes (for ICMP errors, which quote them). */
  header: Uint8Array;
  payload: Uint8Array;
}

/** Parses a datagram; a string says why it was dropped. */
export function parseIpv4(b: Uint8Array): Ipv4Packet | string {
  if (b.length < IPV4_HEADER) return 'short';
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const vihl = v.getUint8(0);
  if (vihl >> 4 !== 4) return 'not version 4';
  const ihl = (vihl & 0xf) * 4;
  if (ihl < IPV4_HEADER || ihl > b.length) return 'bad header length';
  const total = v.getUint16(2);
  if (total < ihl || total > b.length) return 'bad total length';
  if (checksum(b.subarray(0, ihl)) !== 0) return 'bad header checksum';
  const frag = v.getUint16(6);
  // More fragments, or an offset: reassembly is not done yet, so fragments are dropped.
  if ((frag & 0x2000) !== 0 || (frag & 0x1fff) !== 0) return 'fragment';
  return {
    src: v.getUint32(12),
    dst: v.getUint32(16),
    proto: v.getUint8(9),
    ttl: v.getUint8(8),
    header: b.subarray(0, ihl),
    payload: b.subarray(ihl, total),
  };
}

let nextId = 1;

/** Builds a datagram (don't-fragment set: the only link is loopback, MTU 65536). */
export function buildIpv4(
  src: number,
  dst: number,
  proto: number,
  payload: Uint8Array,
): Uint8Array {
  const b = new Uint8Array(IPV4_HEADER + payload.length);
  b.set(payload, IPV4_HEADER);
  writeIpv4Header(b, src, dst, proto);
  return b;
}

/**
 * Fills the first IPV4_HEADER bytes of `b`, a whole datagram whose payload is already in
 * place after them (a packet built in one buffer, without copying its payload again).
 */
export function writeIpv4Header(b: Uint8Array, src: number, dst: number, proto: number): void {
  const v = new DataView(b.buffer, b.byteOffset, IPV4_HEADER);
  v.setUint8(0, 0x45);
  v.setUint16(2, b.length);
  v.setUint16(4, nextId);
  nextId = (nextId + 1) & 0xffff;
  v.setUint16(6, 0x4000);
  v.setUint8(8, DEFAULT_TTL);
  v.setUint8(9, proto);
  v.setUint32(12, src >>> 0);
  v.setUint32(16, dst >>> 0);
  v.setUint16(10, 0);
  v.setUint16(10, checksum(b.subarray(0, IPV4_HEADER)));
}

/** 127.0.0.0/8. */
export function isLoopback(a: number): boolean {
  return a >>> 24 === 127;
}

/** Dotted-quad text of an address (for /proc and logs). */
export function ipv4Text(a: number): string {
  return [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join('.');
}
