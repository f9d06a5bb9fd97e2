// Host sockets: socketpair(2) for the Sentry↔Gofer channel, sendmsg/recvmsg with SCM_RIGHTS
// for fd donation, and the one listening socket: a sandbox's control socket, which the
// launcher binds on the host and hands to the Sentry (whose root holds no host path). Never
// creates a network socket.

import { HostFd } from './fd.js';
import { check, koffi, libc } from './libc.js';

const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_CLOEXEC = 0o2000000;

// SAFETY: socketpair(2) writes exactly two ints into the 2-element Int32Array we own.
const socketpair_ = libc.func('int socketpair(int, int, int, int *)');

/** A connected pair of Unix stream sockets; close-on-exec unless `inheritable`. */
export function socketpair(type = SOCK_STREAM, inheritable = false): [HostFd, HostFd] | number {
  const fds = new Int32Array(2);
  const r = check(socketpair_(AF_UNIX, type | (inheritable ? 0 : SOCK_CLOEXEC), 0, fds) as number);
  if (r < 0) return r;
  return [new HostFd(fds[0] ?? -1), new HostFd(fds[1] ?? -1)];
}

// SAFETY: socket(2), listen(2) and fcntl take integers only; bind(2) reads the sockaddr_un
// of `len` bytes from a buffer we own for the call.
const socket_ = libc.func('int socket(int, int, int)');
const bind_ = libc.func('int bind(int, void *, unsigned int)');
const listen_ = libc.func('int listen(int, int)');
const SUN_PATH_MAX = 107;

/**
 * A Unix stream socket bound to `path` (which must not exist) and listening; close-on-exec.
 * -ENAMETOOLONG when the path does not fit sun_path: never silently truncated.
 */
export function unixListener(path: string, backlog = 64): HostFd | number {
  const name = Buffer.from(path);
  if (name.length > SUN_PATH_MAX) return -36; // ENAMETOOLONG
  const addr = new Uint8Array(2 + name.length + 1);
  addr[0] = AF_UNIX;
  addr.set(name, 2);
  const fd = check(socket_(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number);
  if (fd < 0) return fd;
  const h = new HostFd(fd);
  const b = check(bind_(fd, addr, addr.length) as number);
  const l = b < 0 ? b : check(listen_(fd, backlog) as number);
  if (l < 0) {
    h.close();
    return l;
  }
  return h;
}

// sendmsg(2)/recvmsg(2) with SCM_RIGHTS, for the Gofer's fd donation. The msghdr, iovec and
// control buffer live in native memory this module owns (allocated once, grown on demand):
// their addresses must be stable while the kernel reads them, which a JS buffer's is not
// guaranteed to be. Only the calling thread uses them; both calls are synchronous.

const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;
const MSG_CTRUNC = 0x8;
const MSG_CMSG_CLOEXEC = 0x40000000;
const EINTR = 4;
/** The most fds one message carries (and that recvMsg accepts; more are closed by the kernel). */
export const MAX_FDS_PER_MSG = 16;

// x86-64 layouts: struct msghdr (56 bytes), struct iovec (16), struct cmsghdr (16 + data).
const MSGHDR = 0;
const IOVEC = 64;
const CONTROL = 96;
const CONTROL_LEN = 16 + 4 * MAX_FDS_PER_MSG;
const SCRATCH = CONTROL + CONTROL_LEN;

// SAFETY: sendmsg(2)/recvmsg(2) read (and, for recvmsg, write) only the msghdr at the pointer
// and the iovec/control buffers it points to, all inside native allocations owned here and
// sized as the msghdr says.
const sendmsg_ = libc.func('intptr_t sendmsg(int, void *, int)');
const recvmsg_ = libc.func('intptr_t recvmsg(int, void *, int)');

class NativeArea {
  ptr: bigint;
  size: number;
  view: DataView;
  constructor(size: number) {
    this.ptr = toPtr(koffi.alloc('uint8_t', size));
    this.size = size;
    this.view = new DataView(koffi.view(this.ptr, size));
  }
  bytes(off: number, len: number): Uint8Array {
    return new Uint8Array(this.view.buffer, off, len);
  }
}

function toPtr(p: unknown): bigint {
  if (typeof p !== 'bigint') throw new Error('host: koffi.alloc did not return a pointer');
  return p;
}

const scratch = new NativeArea(SCRATCH);
let dataArea = new NativeArea(64 * 1024);

function dataRoom(n: number): NativeArea {
  if (n > dataArea.size) {
    koffi.free(dataArea.ptr);
    dataArea = new NativeArea(Math.max(n, dataArea.size * 2));
  }
  return dataArea;
}

const scratchBytes = scratch.bytes(0, SCRATCH);
const iovPtr = scratch.ptr + BigInt(IOVEC);
const controlPtr = scratch.ptr + BigInt(CONTROL);

function fillMsghdr(dataLen: number, controlLen: number): void {
  const v = scratch.view;
  scratchBytes.fill(0, 0, controlLen > 0 ? CONTROL + 16 : CONTROL);
  v.setBigUint64(IOVEC, dataArea.ptr, true);
  v.setUint32(IOVEC + 8, dataLen, true);
  v.setBigUint64(MSGHDR + 16, iovPtr, true);
  v.setUint32(MSGHDR + 24, 1, true);
  if (controlLen > 0) {
    v.setBigUint64(MSGHDR + 32, controlPtr, true);
    v.setUint32(MSGHDR + 40, controlLen, true);
  }
}

/** One sendmsg(2) of `data` (or its first part) with `fds` as SCM_RIGHTS; bytes sent or
 * -errno. The fds stay owned by the caller (the kernel duplicates them into the message). */
export function sendMsg(sock: HostFd, data: Uint8Array, fds: readonly HostFd[] = []): number {
  if (fds.length > MAX_FDS_PER_MSG) return -22;
  dataRoom(data.length).bytes(0, data.length).set(data);
  const controlLen = fds.length > 0 ? 16 + 4 * fds.length : 0;
  fillMsghdr(data.length, controlLen);
  if (controlLen > 0) {
    const v = scratch.view;
    v.setBigUint64(CONTROL, BigInt(controlLen), true);
    v.setInt32(CONTROL + 8, SOL_SOCKET, true);
    v.setInt32(CONTROL + 12, SCM_RIGHTS, true);
    fds.forEach((f, i) => v.setInt32(CONTROL + 16 + 4 * i, f.fd, true));
  }
  for (;;) {
    const r = check(sendmsg_(sock.fd, scratch.ptr, MSG_NOSIGNAL) as number | bigint);
    if (r !== -EINTR) return r;
  }
}

/** sendMsg until every byte is out (fds go with the first part); bytes sent or -errno. */
export function sendAll(sock: HostFd, data: Uint8Array, fds: readonly HostFd[] = []): number {
  let off = 0;
  let first = true;
  while (off < data.length || first) {
    const r = sendMsg(sock, data.subarray(off), first ? fds : []);
    if (r < 0) return r;
    first = false;
    off += r;
    if (data.length === 0) break;
  }
  return off;
}

export interface Received {
  /** Bytes received (0 at end of file). */
  n: number;
  /** Fds that came with them, close-on-exec, now owned by the caller. */
  fds: HostFd[];
  /** The control buffer was too small and some fds were lost. */
  truncated: boolean;
}

/** One recvmsg(2) into `buf`, collecting SCM_RIGHTS fds (close-on-exec); or -errno. */
export function recvMsg(sock: HostFd, buf: Uint8Array): Received | number {
  const area = dataRoom(buf.length);
  fillMsghdr(buf.length, CONTROL_LEN);
  let r: number;
  for (;;) {
    r = check(recvmsg_(sock.fd, scratch.ptr, MSG_CMSG_CLOEXEC) as number | bigint);
    if (r !== -EINTR) break;
  }
  if (r < 0) return r;
  buf.set(area.bytes(0, r));
  const v = scratch.view;
  const controlLen = Math.min(Number(v.getBigUint64(MSGHDR + 40, true)), CONTROL_LEN);
  const flags = v.getInt32(MSGHDR + 48, true);
  const fds: HostFd[] = [];
  let off = 0;
  while (off + 16 <= controlLen) {
    const len = Number(v.getBigUint64(CONTROL + off, true));
    if (len < 16 || off + len > controlLen) break;
    if (
      v.getInt32(CONTROL + off + 8, true) === SOL_SOCKET &&
      v.getInt32(CONTROL + off + 12, true) === SCM_RIGHTS
    ) {
      for (let p = 16; p + 4 <= len; p += 4)
        fds.push(new HostFd(v.getInt32(CONTROL + off + p, true)));
    }
    off += (len + 7) & ~7;
  }
  return { n: r, fds, truncated: (flags & MSG_CTRUNC) !== 0 };
}
