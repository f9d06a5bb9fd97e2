// Argument decoding shared by syscall handlers: registers arrive as unsigned 64-bit values and
// are narrowed here the way Linux narrows them (int arguments take the low 32 bits, signed).

/** The low 32 bits as a signed int (an `int` parameter). */
export function int(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** The low 32 bits as an unsigned int. */
export function uint(v: bigint): number {
  return Number(BigInt.asUintN(32, v));
}

/** A size_t clamped to a safe JavaScript number (callers bound it further). */
export function size(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** A signed 64-bit value (off_t, long). */
export function long(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
