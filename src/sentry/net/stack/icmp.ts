// ICMP for IPv4 (RFC 792): echo requests answered, and the destination-unreachable errors a
// host sends (port unreachable for a UDP datagram nobody is bound to) and reads back (the
// quoted header names the socket that sent the datagram). Pure; never throws.

import { checksum } from './checksum.js';
import { IPV4_HEADER } from './ipv4.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO = 8;
export const ICMP_PORT_UNREACH = 3;

export interface IcmpMessage {
  type: number;
  code: number;
  /** Bytes after the 4-byte type/code/checksum: id and sequence, or unused + quoted datagram. */
  rest: Uint8Array;
}

export function parseIcmp(b: Uint8Array): IcmpMessage | string {
  if (b.length < 8) return 'short';
  if (checksum(b) !== 0) return 'bad checksum';
  return { type: b[0] ?? 0, code: b[1] ?? 0, rest: b.subarray(4) };
}

export function buildIcmp(type: number, code: number, rest: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + rest.length);
  b[0] = type;
  b[1] = code;
  b.set(rest, 4);
  new DataView(b.buffer).setUint16(2, checksum(b));
  return b;
}

/** A destination-unreachable error quoting `header` and the first 8 bytes of its payload. */
export function unreachable(code: number, header: Uint8Array, payload: Uint8Array): Uint8Array {
  const q = new Uint8Array(4 + header.length + Math.min(8, payload.length));
  q.set(header, 4);
  q.set(payload.subarray(0, 8), 4 + header.length);
  return buildIcmp(ICMP_DEST_UNREACH, code, q);
}

/** The quoted datagram of an error: its protocol, addresses and first 8 payload bytes. */
export function quoted(
  rest: Uint8Array,
): { proto: number; src: number; dst: number; head: Uint8Array } | undefined {
  const q = rest.subarray(4);
  if (q.length < IPV4_HEADER + 8) return undefined;
  const ihl = ((q[0] ?? 0) & 0xf) * 4;
  if (ihl < IPV4_HEADER || q.length < ihl + 8) return undefined;
  const v = new DataView(q.buffer, q.byteOffset, q.length);
  return {
    proto: v.getUint8(9),
    src: v.getUint32(12),
    dst: v.getUint32(16),
    head: q.subarray(ihl, ihl + 8),
  };
}
