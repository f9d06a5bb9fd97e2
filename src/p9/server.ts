// A synchronous 9P2000.L server loop: reads one frame at a time from a connected socket,
// negotiates the version (Tversion), decodes each request, hands it to a handler and sends the
// reply (with fds the handler donates, as SCM_RIGHTS). Used by the Gofer. It must never trust
// the peer: frames are decoded by codec.ts (malformed ones get Rlerror EINVAL, or end the
// session when the framing itself is broken), no request is served before Tversion, fds the
// peer sends are closed unread, and a handler bug becomes Rlerror EIO, not a crash. Single
// threaded: one request is served at a time, so Tflush has nothing to cancel.

import { Errno } from '../abi/linux/errno.js';
import type { HostFd } from '../host/fd.js';
import { CodecError, decode, encode, HEADER_SIZE, NOTAG, type Msg } from './codec.js';
import { FrameChannel } from './transport.js';

export const P9_VERSION = '9P2000.L';
/** The msize the server proposes at most (the client may ask less). */
export const SERVER_MAX_MSIZE = 1024 * 1024;
const MIN_MSIZE = 4096;

/** A handler's answer: an R-message (its tag is filled in) or a negative errno for Rlerror. */
export type HandlerReply = { msg: Msg; fds?: HostFd[] } | number;

export interface P9Handler {
  /** Serves one request other than Tversion/Tflush. `msize` is the negotiated frame limit. */
  handle(req: Msg, msize: number): HandlerReply;
  /** The session ended (EOF or a broken frame): release every fid. */
  reset(): void;
}

export interface ServeLog {
  (line: string): void;
}

/** Serves `sock` until end of file. Returns 0 at a clean EOF, or -errno / -EPROTO when the
 * session had to be ended. */
export function serve(sock: HostFd, handler: P9Handler, log: ServeLog = () => {}): number {
  const chan = new FrameChannel(sock, SERVER_MAX_MSIZE);
  let msize = 0; // 0 until Tversion.
  for (;;) {
    const got = chan.read();
    if (got === 0) {
      handler.reset();
      return 0;
    }
    if (typeof got === 'number' || got instanceof CodecError) {
      log(`9p server: read: ${typeof got === 'number' ? `errno ${-got}` : got.message}`);
      handler.reset();
      return typeof got === 'number' ? got : -Errno.EPROTO;
    }
    for (const f of got.fds) f.close();
    const limit = msize === 0 ? SERVER_MAX_MSIZE : msize;
    const req = decode(got.frame, limit);
    let reply: HandlerReply;
    let tag =
      got.frame.length >= HEADER_SIZE ? (got.frame[5] ?? 0) | ((got.frame[6] ?? 0) << 8) : NOTAG;
    if (req instanceof CodecError) {
      log(`9p server: ${req.message}`);
      reply = -Errno.EINVAL;
    } else if (req.type === 'Tversion') {
      // Tversion: msize[4] version[s]. A new Tversion also aborts every fid of the session.
      handler.reset();
      const m = Math.min(req.msize, SERVER_MAX_MSIZE);
      const ok = req.version === P9_VERSION && m >= MIN_MSIZE;
      msize = ok ? m : 0;
      chan.setMsize(ok ? m : SERVER_MAX_MSIZE);
      reply = {
        msg: { type: 'Rversion', tag: req.tag, msize: m, version: ok ? P9_VERSION : 'unknown' },
      };
    } else if (msize === 0) {
      reply = -Errno.EPROTO;
    } else if (req.type === 'Tflush') {
      reply = { msg: { type: 'Rflush', tag: req.tag } };
    } else if (req.type.startsWith('R')) {
      reply = -Errno.EINVAL;
    } else {
      try {
        reply = handler.handle(req, msize);
      } catch (e) {
        log(
          `9p server: ${req.type}: handler bug: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        );
        reply = -Errno.EIO;
      }
    }
    if (req instanceof CodecError === false) tag = req.tag;
    const r = sendReply(chan, tag, reply, msize === 0 ? SERVER_MAX_MSIZE : msize);
    if (r < 0) {
      log(`9p server: write: errno ${-r}`);
      handler.reset();
      return r;
    }
  }
}

function sendReply(chan: FrameChannel, tag: number, reply: HandlerReply, msize: number): number {
  let frame: Uint8Array | CodecError;
  let fds: HostFd[] = [];
  if (typeof reply === 'number') {
    // Rlerror: ecode[4].
    frame = encode({ type: 'Rlerror', tag, ecode: -reply }, msize);
  } else {
    reply.msg.tag = tag;
    fds = reply.fds ?? [];
    frame = encode(reply.msg, msize);
    if (frame instanceof CodecError)
      frame = encode({ type: 'Rlerror', tag, ecode: Errno.EIO }, msize);
  }
  if (frame instanceof CodecError) return -Errno.EIO;
  let r = chan.write(frame, fds);
  // Donation is an optimisation: on a socket that cannot carry fds (TCP), reply without them.
  if (fds.length > 0 && (r === -Errno.EINVAL || r === -Errno.EOPNOTSUPP)) r = chan.write(frame);
  return r < 0 ? r : 0;
}
