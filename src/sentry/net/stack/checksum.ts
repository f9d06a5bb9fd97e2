// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
// big-endian words, used by IPv4 headers, ICMP, UDP and TCP. Pure; never throws.

/** Adds `b` to a running 32-bit sum (an odd last byte is padded with zero). */
export function sumBytes(b: Uint8Array, sum = 0): number {
  const n = b.length & ~1;
  for (let i = 0; i < n; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  if ((b.length & 1) !== 0) sum += (b[b.length - 1] ?? 0) << 8;
  return sum;
}

/** Folds a running sum into the 16-bit checksum field value. */
export function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The checksum of `b` alone. */
export function checksum(b: Uint8Array): number {
  return finish(sumBytes(b));
}

/** The running sum of an IPv4 pseudo-header (RFC 768, RFC 793). */
export function pseudoSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}
