// Where bound Unix sockets are found by name, and what a sockaddr_un means. Two namespaces, as
// Linux: abstract names (sun_path starts with a NUL byte; kept here, one table per sandbox)
// and file-system names (bind makes a socket node through the vfs; the socket is then found
// from that node's device and inode number, as Linux finds it from the inode). Also the
// encoding getsockname, getpeername, accept and recvfrom write back. Never touches the host
// and never trusts a length from the application.

import { Errno } from '../../abi/linux/errno.js';
import type { UnixEndpoint } from './unix_socket.js';

export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
/** offsetof(struct sockaddr_un, sun_path). */
const SUN_PATH = 2;
/** sizeof(struct sockaddr_un). */
export const SOCKADDR_UN_SIZE = 110;

/** An address an application gave to bind, connect or sendto. */
export type UnixAddr =
  /** A file-system name: the path (for the vfs) and its bytes (the socket's name). */
  | { kind: 'path'; path: string; name: Uint8Array }
  /** An abstract name: its bytes, the leading NUL included. */
  | { kind: 'abstract'; name: Uint8Array }
  /** Only sun_family (bind: pick an abstract name). */
  | { kind: 'autobind' }
  /** AF_UNSPEC (connect of a datagram socket: dissolve the association). */
  | { kind: 'unspec' };

const utf8 = new TextDecoder('utf-8');

/**
 * Decodes `len` bytes of a sockaddr_un (`b` holds at least min(len, 110) of them), as Linux's
 * unix_validate_addr and unix_mkname_bsd: -EINVAL for a length out of range or another
 * family (AF_UNSPEC is accepted as such, for connect to decide).
 */
export function parseUnixAddr(b: Uint8Array, len: number): UnixAddr | number {
  if (len < SUN_PATH || len > SOCKADDR_UN_SIZE || b.length < len) return -Errno.EINVAL;
  const family = (b[0] ?? 0) | ((b[1] ?? 0) << 8);
  if (family === AF_UNSPEC) return { kind: 'unspec' };
  if (family !== AF_UNIX) return -Errno.EINVAL;
  if (len === SUN_PATH) return { kind: 'autobind' };
  const sun = b.subarray(SUN_PATH, len);
  if (sun[0] === 0) return { kind: 'abstract', name: sun.slice() };
  const z = sun.indexOf(0);
  const bytes = (z < 0 ? sun : sun.subarray(0, z)).slice();
  return { kind: 'path', path: utf8.decode(bytes), name: bytes };
}

/**
 * The sockaddr_un of a socket's name as Linux returns it: the family, then a path with its
 * NUL or the abstract bytes; only the family for a socket without a name.
 */
export function encodeUnixName(name: Uint8Array | null): Uint8Array {
  const abstract = name !== null && name[0] === 0;
  const n = name === null ? 0 : name.length + (abstract ? 0 : 1);
  const out = new Uint8Array(SUN_PATH + n);
  out[0] = AF_UNIX;
  if (name !== null) out.set(name, SUN_PATH);
  return out;
}

/** The key of a socket node: its file system's device and its inode number. */
export function nodeKey(dev: number, ino: bigint): string {
  return `${dev}:${ino}`;
}

/** The bound sockets of one sandbox. */
export class UnixNames {
  private readonly abstract = new Map<string, UnixEndpoint>();
  private readonly nodes = new Map<string, UnixEndpoint>();
  private nextAuto = 0;

  /** Abstract names are per socket type: Linux hashes the type in, so a stream socket and a
   * datagram socket may hold the same name, and a lookup finds only its own type. */
  private static abstractKey(type: number, name: Uint8Array): string {
    return `${type}:${Buffer.from(name.buffer, name.byteOffset, name.length).toString('latin1')}`;
  }

  /** Binds `ep` to the abstract `name` (leading NUL included); -EADDRINUSE when taken. */
  bindAbstract(ep: UnixEndpoint, name: Uint8Array): number {
    const key = UnixNames.abstractKey(ep.type, name);
    if (this.abstract.has(key)) return -Errno.EADDRINUSE;
    this.abstract.set(key, ep);
    ep.name = name;
    ep.unbind = () => {
      if (this.abstract.get(key) === ep) this.abstract.delete(key);
    };
    return 0;
  }

  /** Binds `ep` to a free abstract name of five hex digits (unix_autobind). */
  autobind(ep: UnixEndpoint): number {
    for (let tries = 0; tries <= 0xfffff; tries++) {
      const n = this.nextAuto;
      this.nextAuto = (this.nextAuto + 1) & 0xfffff;
      const name = new Uint8Array(6);
      name.set(Buffer.from(n.toString(16).padStart(5, '0'), 'latin1'), 1);
      if (this.bindAbstract(ep, name) === 0) return 0;
    }
    return -Errno.ENOSPC;
  }

  /** Binds `ep` to the socket node `key` just made for the path name `name`. */
  bindNode(ep: UnixEndpoint, key: string, name: Uint8Array): void {
    this.nodes.set(key, ep);
    ep.name = name;
    ep.unbind = () => {
      if (this.nodes.get(key) === ep) this.nodes.delete(key);
    };
  }

  findAbstract(type: number, name: Uint8Array): UnixEndpoint | undefined {
    return this.abstract.get(UnixNames.abstractKey(type, name));
  }

  findNode(key: string): UnixEndpoint | undefined {
    return this.nodes.get(key);
  }

  /** Every bound socket (for /proc/net/unix). */
  bound(): UnixEndpoint[] {
    return [...this.abstract.values(), ...this.nodes.values()];
  }
}
