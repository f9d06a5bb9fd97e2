// UDP (RFC 768) on the wire: a datagram's header and checksum over the IPv4 pseudo-header,
// built and checked. Pure; never throws on hostile input.

import { finish, pseudoSum, sumBytes } from './checksum.js';
import { IPPROTO_UDP } from './ipv4.js';

export const UDP_HEADER = 8;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

/** Parses the UDP datagram carried from `src` to `dst`; a string says why it was dropped. */
export function parseUdp(b: Uint8Array, src: number, dst: number): UdpDatagram | string {
  if (b.length < UDP_HEADER) return 'short';
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const len = v.getUint16(4);
  if (len < UDP_HEADER || len > b.length) return 'bad length';
  const sum = v.getUint16(6);
  if (sum !== 0) {
    const c = finish(sumBytes(b.subarray(0, len), pseudoSum(src, dst, IPPROTO_UDP, len)));
    if (c !== 0) return 'bad checksum';
  }
  return { srcPort: v.getUint16(0), dstPort: v.getUint16(2), payload: b.subarray(UDP_HEADER, len) };
}

/** Builds a UDP datagram with its checksum. */
export function buildUdp(
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
): Uint8Array {
  const b = new Uint8Array(UDP_HEADER + payload.length);
  const v = new DataView(b.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, b.length);
  b.set(payload, UDP_HEADER);
  const c = finish(sumBytes(b, pseudoSum(src, dst, IPPROTO_UDP, b.length)));
  v.setUint16(6, c === 0 ? 0xffff : c);
  return b;
}
