// 9P2000.L wire primitives: little-endian integers, 2-byte-length strings, 13-byte qids, over a
// byte buffer. It must never read or write outside its buffer and never throw: a short or
// malformed field sets `error` once and every later read returns a zero value, so that a
// decoder checks one flag at its end (the 9P "size[4] type[1] tag[2] ..." framing lives in
// codec.ts).

import type { Qid } from './client_api.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Enc = new TextEncoder();

/** Bounds-checked reader. The first failure is kept in `error`; reads after it return zeros. */
export class WireReader {
  pos: number;
  error: string | undefined;
  private readonly view: DataView;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get remaining(): number {
    return this.end - this.pos;
  }
  fail(why: string): void {
    if (this.error === undefined) this.error = why;
  }
  private take(n: number, what: string): number {
    if (this.error !== undefined) return -1;
    if (n > this.end - this.pos) {
      this.fail(`truncated ${what} at offset ${this.pos}`);
      return -1;
    }
    const p = this.pos;
    this.pos += n;
    return p;
  }
  u8(): number {
    const p = this.take(1, 'u8');
    return p < 0 ? 0 : this.view.getUint8(p);
  }
  u16(): number {
    const p = this.take(2, 'u16');
    return p < 0 ? 0 : this.view.getUint16(p, true);
  }
  u32(): number {
    const p = this.take(4, 'u32');
    return p < 0 ? 0 : this.view.getUint32(p, true);
  }
  u64(): bigint {
    const p = this.take(8, 'u64');
    return p < 0 ? 0n : this.view.getBigUint64(p, true);
  }
  /** A 9P string: len[2] then that many UTF-8 bytes; NUL bytes and invalid UTF-8 are refused. */
  str(): string {
    const n = this.u16();
    const p = this.take(n, 'string');
    if (p < 0) return '';
    const bytes = this.buf.subarray(p, p + n);
    if (bytes.includes(0)) {
      this.fail(`string with a NUL byte at offset ${p}`);
      return '';
    }
    try {
      return utf8.decode(bytes);
    } catch {
      this.fail(`string with invalid UTF-8 at offset ${p}`);
      return '';
    }
  }
  qid(): Qid {
    const type = this.u8();
    const version = this.u32();
    const path = this.u64();
    return { type, version, path };
  }
  /** `n` raw bytes (a view into the buffer, not a copy). */
  bytes(n: number): Uint8Array {
    const p = this.take(n, 'data');
    return p < 0 ? new Uint8Array(0) : this.buf.subarray(p, p + n);
  }
}

const U32_MAX = 0xffffffff;

/** Growable little-endian writer. Out-of-range values set `error` instead of throwing. */
export class WireWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  error: string | undefined;
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }
  fail(why: string): void {
    if (this.error === undefined) this.error = why;
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }
  private int(v: number, max: number, what: string): boolean {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      this.fail(`${what} out of range: ${v}`);
      return false;
    }
    return true;
  }
  u8(v: number): void {
    if (!this.int(v, 0xff, 'u8')) return;
    this.room(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }
  u16(v: number): void {
    if (!this.int(v, 0xffff, 'u16')) return;
    this.room(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    if (!this.int(v, U32_MAX, 'u32')) return;
    this.room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  /** Starts over (keeping the buffer), for reuse. */
  reset(): void {
    this.pos = 0;
    this.error = undefined;
  }
  u64(v: bigint): void {
    if (v >> 64n !== 0n) {
      this.fail(`u64 out of range: ${v}`);
      return;
    }
    this.room(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }
  str(s: string): void {
    const b = utf8Enc.encode(s);
    if (b.length > 0xffff) {
      this.fail(`string too long: ${b.length} bytes`);
      return;
    }
    if (b.includes(0)) {
      this.fail('string with a NUL byte');
      return;
    }
    this.u16(b.length);
    this.bytes(b);
  }
  qid(q: Qid): void {
    this.u8(q.type);
    this.u32(q.version);
    this.u64(q.path);
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** The bytes written so far (a view). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
