// 9P2000.L message codec: Msg ↔ bytes, driven by the table in messages.ts. Every frame is
// size[4] type[1] tag[2] body. Decoding faces hostile input (the Gofer decodes what a possibly
// compromised Sentry sends; the Sentry decodes what the Gofer sends): it must never throw,
// never read out of bounds and never accept a malformed frame — wrong size field, size over
// msize, unknown type, truncated or trailing bytes, string with NUL or bad UTF-8, nwname or
// nwqid over 16, a count past the end. Errors are CodecError values.

import type { P9Dirent } from './client_api.js';
import { WireReader, WireWriter } from './wire.js';
import {
  HEADER_SIZE,
  MAXWELEM,
  NAME_BY_ID,
  SCHEMAS,
  type FieldKind,
  type Msg,
  type MsgName,
  type MsgOf,
} from './messages.js';

export { HEADER_SIZE, MAXWELEM, NOFID, NOTAG } from './messages.js';
export type { Msg, MsgName, MsgOf } from './messages.js';

/** Why a frame was refused (a value, never thrown). */
export class CodecError {
  constructor(readonly message: string) {}
}

function readField(r: WireReader, kind: FieldKind): unknown {
  switch (kind) {
    case 'u8':
      return r.u8();
    case 'u16':
      return r.u16();
    case 'u32':
      return r.u32();
    case 'u64':
      return r.u64();
    case 'str':
      return r.str();
    case 'qid':
      return r.qid();
    case 'wnames': {
      const n = r.u16();
      if (n > MAXWELEM) {
        r.fail(`nwname ${n} over ${MAXWELEM}`);
        return [];
      }
      const out: string[] = [];
      for (let i = 0; i < n && r.error === undefined; i++) out.push(r.str());
      return out;
    }
    case 'wqids': {
      const n = r.u16();
      if (n > MAXWELEM) {
        r.fail(`nwqid ${n} over ${MAXWELEM}`);
        return [];
      }
      const out = [];
      for (let i = 0; i < n && r.error === undefined; i++) out.push(r.qid());
      return out;
    }
    case 'data': {
      const n = r.u32();
      if (n > r.remaining) {
        r.fail(`count ${n} past the end of the frame`);
        return new Uint8Array(0);
      }
      return r.bytes(n);
    }
  }
}

function writeField(w: WireWriter, kind: FieldKind, v: unknown, name: string): void {
  switch (kind) {
    case 'u8':
    case 'u16':
    case 'u32':
      if (typeof v !== 'number') return w.fail(`field ${name}: not a number`);
      return kind === 'u8' ? w.u8(v) : kind === 'u16' ? w.u16(v) : w.u32(v);
    case 'u64':
      if (typeof v !== 'bigint') return w.fail(`field ${name}: not a bigint`);
      return w.u64(v);
    case 'str':
      if (typeof v !== 'string') return w.fail(`field ${name}: not a string`);
      return w.str(v);
    case 'qid':
      if (!isQid(v)) return w.fail(`field ${name}: not a qid`);
      return w.qid(v);
    case 'wnames':
      if (!Array.isArray(v) || v.length > MAXWELEM) return w.fail(`field ${name}: bad names`);
      w.u16(v.length);
      for (const s of v as unknown[]) {
        if (typeof s !== 'string') return w.fail(`field ${name}: not a string`);
        w.str(s);
      }
      return;
    case 'wqids':
      if (!Array.isArray(v) || v.length > MAXWELEM) return w.fail(`field ${name}: bad qids`);
      w.u16(v.length);
      for (const q of v as unknown[]) {
        if (!isQid(q)) return w.fail(`field ${name}: not a qid`);
        w.qid(q);
      }
      return;
    case 'data':
      if (!(v instanceof Uint8Array)) return w.fail(`field ${name}: not bytes`);
      w.u32(v.length);
      return w.bytes(v);
  }
}

function isQid(v: unknown): v is { type: number; version: number; path: bigint } {
  if (typeof v !== 'object' || v === null) return false;
  const q = v as Record<string, unknown>;
  return typeof q.type === 'number' && typeof q.version === 'number' && typeof q.path === 'bigint';
}

/** Encodes one message as a complete frame. Refuses (CodecError) values out of range or a
 * frame over `msize`. */
export function encode(msg: Msg, msize = 0xffffffff): Uint8Array | CodecError {
  const schema = SCHEMAS[msg.type];
  const w = scratch;
  w.reset();
  w.u32(0);
  w.u8(schema.id);
  w.u16(msg.tag);
  const rec = msg as unknown as Record<string, unknown>;
  for (const [name, kind] of schema.fields) writeField(w, kind, rec[name], name);
  if (w.error !== undefined) return new CodecError(`encode ${msg.type}: ${w.error}`);
  if (w.pos > msize) return new CodecError(`encode ${msg.type}: size ${w.pos} over msize ${msize}`);
  w.view.setUint32(0, w.pos, true);
  return w.buf.slice(0, w.pos);
}

/** encode()'s writer, reused (encode is synchronous and returns a copy). */
const scratch = new WireWriter(4096);

/** The size field of a frame whose first 4 bytes are in `head`, or a CodecError when it is
 * below the header size or over msize (the reader must not wait for it). */
export function frameSize(head: Uint8Array, msize: number): number | CodecError {
  if (head.length < 4) return new CodecError('frame: short size field');
  const size = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
  if (size < HEADER_SIZE) return new CodecError(`frame: size ${size} below the header size`);
  if (size > msize) return new CodecError(`frame: size ${size} over msize ${msize}`);
  return size;
}

/** Decodes exactly one complete frame (`frame.length` must equal its size field). */
export function decode(frame: Uint8Array, msize: number): Msg | CodecError {
  const size = frameSize(frame, msize);
  if (size instanceof CodecError) return size;
  if (size !== frame.length) {
    return new CodecError(`frame: size field ${size} but ${frame.length} bytes`);
  }
  const r = new WireReader(frame, 4, size);
  const id = r.u8();
  const tag = r.u16();
  const name = NAME_BY_ID.get(id);
  if (name === undefined) return new CodecError(`frame: unknown message type ${id}`);
  const out: Record<string, unknown> = { type: name, tag };
  for (const [fname, kind] of SCHEMAS[name].fields) out[fname] = readField(r, kind);
  if (r.error !== undefined) return new CodecError(`decode ${name}: ${r.error}`);
  if (r.remaining !== 0) return new CodecError(`decode ${name}: ${r.remaining} trailing bytes`);
  return out as unknown as Msg;
}

/** Narrows a decoded message to the kind expected. */
export function isMsg<K extends MsgName>(
  m: Msg,
  type: K,
): m is Extract<Msg, { type: K }> & MsgOf<K> {
  return m.type === type;
}

/** Rreaddir's data: qid[13] offset[8] type[1] name[s] per entry. Stops before an entry that
 * would not fit in `max` bytes; returns the bytes and how many entries were packed. */
export function encodeDirents(
  entries: readonly P9Dirent[],
  max: number,
): { data: Uint8Array; count: number } {
  const w = new WireWriter(Math.min(max, 4096));
  let count = 0;
  for (const e of entries) {
    const before = w.pos;
    w.qid(e.qid);
    w.u64(e.offset);
    w.u8(e.type);
    w.str(e.name);
    if (w.error !== undefined || w.pos > max) {
      w.pos = before;
      break;
    }
    count++;
  }
  return { data: w.buf.slice(0, w.pos), count };
}

/** Parses Rreaddir's data; refuses a truncated entry or a bad name. */
export function decodeDirents(data: Uint8Array): P9Dirent[] | CodecError {
  const r = new WireReader(data);
  const out: P9Dirent[] = [];
  while (r.remaining > 0 && r.error === undefined) {
    const qid = r.qid();
    const offset = r.u64();
    const type = r.u8();
    const name = r.str();
    if (r.error === undefined) out.push({ qid, offset, type, name });
  }
  if (r.error !== undefined) return new CodecError(`decode dirents: ${r.error}`);
  return out;
}
