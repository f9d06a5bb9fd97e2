// 9P frame transport over a connected Unix socket: reads whole frames (size[4] first) with
// recvmsg(2), keeping the SCM_RIGHTS fds that arrive with them, and sends frames, optionally
// with fds. Synchronous and blocking by design (the Sentry's hot path and the Gofer's loop have
// no event loop under them). It must never hand out a frame larger than msize: a size field
// over msize fails the channel before any of the frame is waited for. Owns received fds until
// it hands them to the caller with their frame.

import type { HostFd } from '../host/fd.js';
import { recvMsg, sendAll } from '../host/socket.js';
import { CodecError, frameSize } from './codec.js';

export interface Frame {
  frame: Uint8Array;
  /** Fds that arrived while this frame was read; the caller owns (and must close) them. */
  fds: HostFd[];
}

export class FrameChannel {
  private buf: Uint8Array;
  private len = 0;
  private pending: HostFd[] = [];
  constructor(
    readonly sock: HostFd,
    private msize: number,
  ) {
    this.buf = new Uint8Array(msize);
  }

  /** After Tversion: frames may now be up to `msize` bytes. */
  setMsize(msize: number): void {
    if (msize > this.buf.length) {
      const nb = new Uint8Array(msize);
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
    }
    this.msize = msize;
  }

  /** The next complete frame; 0 at end of file (also mid-frame), -errno on a socket error, a
   * CodecError for a size field out of bounds. */
  read(): Frame | number | CodecError {
    for (;;) {
      if (this.len >= 4) {
        const size = frameSize(this.buf.subarray(0, 4), this.msize);
        if (size instanceof CodecError) return size;
        if (this.len >= size) {
          const frame = this.buf.slice(0, size);
          this.buf.copyWithin(0, size, this.len);
          this.len -= size;
          const fds = this.pending;
          this.pending = [];
          return { frame, fds };
        }
      }
      const r = recvMsg(this.sock, this.buf.subarray(this.len));
      if (typeof r === 'number') return r;
      this.pending.push(...r.fds);
      if (r.n === 0) return 0;
      this.len += r.n;
    }
  }

  /** Sends one whole frame (with `fds` as SCM_RIGHTS); bytes sent or -errno. */
  write(frame: Uint8Array, fds: readonly HostFd[] = []): number {
    return sendAll(this.sock, frame, fds);
  }

  /** Closes fds received but not yet handed out. */
  dropPending(): void {
    for (const f of this.pending) f.close();
    this.pending = [];
  }
}
