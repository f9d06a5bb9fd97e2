// Host sockets: socketpair(2) for the Sentry↔Gofer channel. (The Gofer's owner adds
// sendmsg/recvmsg with SCM_RIGHTS here.) Never creates a listening or network socket.

import { HostFd } from './fd.js';
import { check, libc } from './libc.js';

const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_CLOEXEC = 0o2000000;

// SAFETY: socketpair(2) writes exactly two ints into the 2-element Int32Array we own.
const socketpair_ = libc.func('int socketpair(int, int, int, _Out_ int[2])');

/** A connected pair of Unix stream sockets; close-on-exec unless `inheritable`. */
export function socketpair(type = SOCK_STREAM, inheritable = false): [HostFd, HostFd] | number {
  const fds = [0, 0];
  const r = check(socketpair_(AF_UNIX, type | (inheritable ? 0 : SOCK_CLOEXEC), 0, fds) as number);
  if (r < 0) return r;
  return [new HostFd(fds[0] ?? -1), new HostFd(fds[1] ?? -1)];
}
