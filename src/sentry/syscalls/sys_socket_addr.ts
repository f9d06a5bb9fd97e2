// What the socket system calls share: the socket behind an fd, the sandbox's table of bound
// Unix names, socket addresses read from the application (move_addr_to_kernel) and written
// back to it (move_addr_to_user), and finding the socket an address names (unix_find_other).
// Never trusts a pointer or a length from the application.

import { Errno } from '../../abi/linux/errno.js';
import { AT_FDCWD, S_IFMT, S_IFSOCK } from '../../abi/linux/file.js';
import type { Task } from '../kernel/task.js';
import { unixNamesFor } from '../net/sandbox_net.js';
import { type UnixNames, nodeKey, parseUnixAddr, type UnixAddr } from '../net/unix_names.js';
import { endpointOf, type UnixEndpoint } from '../net/unix_socket.js';
import type { FileDescription } from '../vfs/file_description.js';
import { MAY_WRITE, checkPermission } from '../vfs/permissions.js';
import { resolveAt } from '../vfs/resolve.js';
import { int } from './args.js';

/** sizeof(struct sockaddr_storage): the most an address argument may be. */
const SOCKADDR_STORAGE = 128;

/** A socket: its description and endpoint. */
export interface Sock {
  f: FileDescription;
  ep: UnixEndpoint;
}

/** The socket behind fd `arg`, or -EBADF / -ENOTSOCK. */
export function socketOf(t: Task, arg: bigint): Sock | number {
  const f = t.files.getFile(int(arg));
  if (typeof f === 'number') return f;
  const ep = endpointOf(f);
  return ep === undefined ? -Errno.ENOTSOCK : { f, ep };
}

/** The bound Unix names of `t`'s sandbox. */
export function namesOf(t: Task): UnixNames {
  return unixNamesFor(t.kernel);
}

export function intBytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/**
 * A Unix address of `len` bytes at `addr` (move_addr_to_kernel, then the sockaddr_un
 * checks): -EINVAL for a length out of range, -EFAULT for a bad pointer.
 */
export function copyInUnixAddr(t: Task, addr: bigint, len: number): UnixAddr | number {
  if (len < 0 || len > SOCKADDR_STORAGE) return -Errno.EINVAL;
  const b = len === 0 ? new Uint8Array(0) : t.mem.copyIn(addr, len);
  if (typeof b === 'number') return b;
  return parseUnixAddr(b, len);
}

/**
 * Writes the address `kaddr` to (uaddr, *ulenAddr) as move_addr_to_user: as much as the
 * caller's length allows, then the full length into *ulenAddr. -EINVAL for a negative length.
 */
export function putAddr(t: Task, uaddr: bigint, ulenAddr: bigint, kaddr: Uint8Array): number {
  const lb = t.mem.copyIn(ulenAddr, 4);
  if (typeof lb === 'number') return lb;
  const ulen = new DataView(lb.buffer, lb.byteOffset, 4).getInt32(0, true);
  const n = Math.min(ulen, kaddr.length);
  if (n < 0) return -Errno.EINVAL;
  if (n > 0) {
    const r = t.mem.copyOut(uaddr, kaddr.subarray(0, n));
    if (r < 0) return r;
  }
  const r = t.mem.copyOut(ulenAddr, intBytes(kaddr.length));
  return r < 0 ? r : 0;
}

/**
 * The socket of `type` a path or abstract address names (unix_find_other): -ENOENT and the
 * other path errors, -EACCES without write permission on the node, -ECONNREFUSED when
 * nothing (alive) is bound there, -EPROTOTYPE for a socket of another type at a path. An
 * abstract name is looked up among sockets of the same type only, as Linux hashes it.
 */
export function findBound(
  t: Task,
  a: UnixAddr & { kind: 'path' | 'abstract' },
  type: number,
): UnixEndpoint | number {
  const names = namesOf(t);
  if (a.kind === 'abstract') {
    const ep = names.findAbstract(type, a.name);
    return ep === undefined || ep.dead ? -Errno.ECONNREFUSED : ep;
  }
  if (a.path.length === 0) return -Errno.ENOENT;
  const p = resolveAt(t, AT_FDCWD, a.path, 0);
  if (typeof p === 'number') return p;
  const st = p.dentry.inode.stat();
  if (typeof st === 'number') return st;
  const perm = checkPermission(t.creds, st, MAY_WRITE);
  if (perm < 0) return perm;
  if ((st.mode & S_IFMT) !== S_IFSOCK) return -Errno.ECONNREFUSED;
  const ep = names.findNode(nodeKey(st.dev, st.ino));
  if (ep === undefined || ep.dead) return -Errno.ECONNREFUSED;
  return ep.type === type ? ep : -Errno.EPROTOTYPE;
}

/**
 * A blocking socket call is about to wait: true to park it (on its first try the timeout,
 * SO_RCVTIMEO or SO_SNDTIMEO, 0n for none, starts); false once that timeout has passed (the
 * call then answers EAGAIN, or what it has moved so far).
 */
export function mayWait(t: Task, timeoutNs: bigint): boolean {
  return t.mayWait(timeoutNs);
}
