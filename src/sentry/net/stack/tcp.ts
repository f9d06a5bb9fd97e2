// TCP (RFC 9293) on the wire: a segment's header, its options (MSS, window scale) and its
// checksum over the IPv4 pseudo-header, built and checked. Sequence-number arithmetic is
// modulo 2^32. Pure; never throws on hostile input.

import { finish, pseudoSum, sumBytes } from './checksum.js';
import { IPPROTO_TCP } from './ipv4.js';

export const TCP_HEADER = 20;
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** MSS option (SYN only), or 0. */
  mss: number;
  /** Window scale option (SYN only), or -1 when absent. */
  wscale: number;
  payload: Uint8Array;
}

/** a < b in sequence space. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * Parses the segment carried from `src` to `dst`; a string says why it was dropped. `verify`
 * false trusts the checksum (a loopback packet, never on a wire: Linux's lo does the same).
 */
export function parseTcp(
  b: Uint8Array,
  src: number,
  dst: number,
  verify = true,
): TcpSegment | string {
  if (b.length < TCP_HEADER) return 'short';
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const off = (v.getUint8(12) >> 4) * 4;
  if (off < TCP_HEADER || off > b.length) return 'bad data offset';
  if (verify && finish(sumBytes(b, pseudoSum(src, dst, IPPROTO_TCP, b.length))) !== 0)
    return 'bad checksum';
  let mss = 0;
  let wscale = -1;
  for (let i = TCP_HEADER; i < off;) {
    const kind = b[i] ?? 0;
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    if (len < 2 || i + len > off) return 'bad option';
    if (kind === 2 && len === 4) mss = v.getUint16(i + 2);
    if (kind === 3 && len === 3) wscale = Math.min(b[i + 2] ?? 0, 14);
    i += len;
  }
  return {
    srcPort: v.getUint16(0),
    dstPort: v.getUint16(2),
    seq: v.getUint32(4),
    ack: v.getUint32(8),
    flags: v.getUint8(13),
    window: v.getUint16(14),
    mss,
    wscale,
    payload: b.subarray(off),
  };
}

/**
 * Builds a segment; `mss`/`wscale` (SYN segments) add their options. `checksum` false leaves
 * the field 0 (a loopback packet, verified by nobody).
 */
export function buildTcp(
  src: number,
  dst: number,
  s: Omit<TcpSegment, 'payload' | 'mss' | 'wscale'> & { mss?: number; wscale?: number },
  payload: Uint8Array | { length: number; fill: (dst: Uint8Array) => void },
  checksum = true,
  headroom = 0,
): Uint8Array {
  const opts = (s.mss !== undefined ? 4 : 0) + (s.wscale !== undefined ? 4 : 0);
  const off = TCP_HEADER + opts;
  // `headroom` bytes before the segment are left for the IPv4 header (one buffer per packet).
  const whole = new Uint8Array(headroom + off + payload.length);
  const b = whole.subarray(headroom);
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  v.setUint16(0, s.srcPort);
  v.setUint16(2, s.dstPort);
  v.setUint32(4, s.seq >>> 0);
  v.setUint32(8, s.ack >>> 0);
  v.setUint8(12, (off / 4) << 4);
  v.setUint8(13, s.flags);
  v.setUint16(14, Math.min(s.window, 0xffff));
  let i = TCP_HEADER;
  if (s.mss !== undefined) {
    b[i] = 2;
    b[i + 1] = 4;
    v.setUint16(i + 2, s.mss);
    i += 4;
  }
  if (s.wscale !== undefined) {
    b[i] = 1;
    b[i + 1] = 3;
    b[i + 2] = 3;
    b[i + 3] = s.wscale;
  }
  if (payload instanceof Uint8Array) b.set(payload, off);
  else payload.fill(b.subarray(off));
  if (checksum) v.setUint16(16, finish(sumBytes(b, pseudoSum(src, dst, IPPROTO_TCP, b.length))));
  return whole;
}
