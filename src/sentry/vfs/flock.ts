// flock(2) locks: advisory whole-file locks held by open file descriptions, shared or
// exclusive, per inode. A conflicting request with LOCK_NB answers EWOULDBLOCK; a lock goes
// away with LOCK_UN or when its description is released. State: one map per locked inode,
// owned by this module. Never throws.
//
// Difference from Linux, until the kernel parks tasks: a conflicting request without LOCK_NB
// answers EWOULDBLOCK instead of waiting.

import { Errno } from '../../abi/linux/errno.js';
import type { FileDescription } from './file_description.js';
import type { Inode } from './inode.js';

export type FlockKind = 'shared' | 'exclusive' | 'unlock';

const held = new WeakMap<Inode, Map<FileDescription, 'shared' | 'exclusive'>>();

/** Takes, converts or drops `f`'s lock on its inode; 0 or -EWOULDBLOCK. */
export function flock(f: FileDescription, kind: FlockKind): number {
  const inode = f.inode;
  let m = held.get(inode);
  if (kind === 'unlock') {
    m?.delete(f);
    return 0;
  }
  const mine = m?.get(f);
  if (mine === kind) return 0;
  // As Linux does, a conversion drops the old lock before trying for the new one.
  if (mine !== undefined) m?.delete(f);
  if (m !== undefined) {
    for (const [other, k] of m) {
      if (other !== f && (kind === 'exclusive' || k === 'exclusive')) return -Errno.EWOULDBLOCK;
    }
  }
  if (m === undefined) {
    m = new Map();
    held.set(inode, m);
  }
  m.set(f, kind);
  f.onRelease(() => {
    held.get(inode)?.delete(f);
  });
  return 0;
}
