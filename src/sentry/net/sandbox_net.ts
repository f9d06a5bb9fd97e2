// The network state of one sandbox, found from its kernel object: the netstack and the table
// of bound Unix names, and who owns each socket endpoint (uid and inode number, for
// /proc/net). Kept here so the syscalls and procfs reach the same objects without the kernel
// depending on either. Never touches the host.

import { SocketMemory } from './notifier.js';
import { Stack } from './stack/stack.js';
import { UnixNames } from './unix_names.js';

const stacks = new WeakMap<object, Stack>();
const memories = new WeakMap<object, SocketMemory>();

/** The socket memory budget of the sandbox whose kernel is `k` (Unix, TCP and UDP queues). */
export function socketMemoryFor(k: object): SocketMemory {
  let m = memories.get(k);
  if (m === undefined) {
    m = new SocketMemory();
    memories.set(k, m);
  }
  return m;
}
const names = new WeakMap<object, UnixNames>();

/** The netstack of the sandbox whose kernel is `k`. */
export function stackFor(k: object): Stack {
  let s = stacks.get(k);
  if (s === undefined) {
    s = new Stack(undefined, socketMemoryFor(k));
    stacks.set(k, s);
  }
  return s;
}

/** The bound Unix names of the sandbox whose kernel is `k`. */
export function unixNamesFor(k: object): UnixNames {
  let n = names.get(k);
  if (n === undefined) {
    n = new UnixNames();
    names.set(k, n);
  }
  return n;
}

/** The owner and inode number of an endpoint's socket. */
export interface SocketOwner {
  uid: number;
  ino: bigint;
}

/** Endpoint (UDP, TCP or Unix) → its socket's owner, while the socket is open. */
export const socketOwners = new WeakMap<object, SocketOwner>();
