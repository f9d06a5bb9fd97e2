// The vfs's attribute-changing operations with Linux's permission rules: chmod (owner or
// root), chown (root; the owner may change the group to one of its groups), truncate (write
// permission, regular files only) and utimensat (owner or root for explicit times; write
// permission suffices for "now"). They act on an inode already resolved or open; the file
// system applies the change through Inode.setattr / Inode.truncate. Never throws.
//
// Differences from Linux: chmod does not clear S_ISGID for non-members, chown does not clear
// S_ISUID/S_ISGID.

import { CAP_CHOWN, CAP_FOWNER, CAP_FSETID } from '../../abi/linux/capability.js';
import { capable } from '../kernel/credentials.js';
import { Errno } from '../../abi/linux/errno.js';
import { S_IFDIR, S_IFMT, S_IFREG, S_ISGID, S_ISUID } from '../../abi/linux/file.js';
import type { Credentials } from '../syscalls/types.js';
import type { Inode } from './inode.js';
import { MAY_WRITE, checkPermission } from './permissions.js';

/** Where the inode was reached: its mount's read-only flag, when known. */
export interface AttrTarget {
  inode: Inode;
  readOnly: boolean;
}

/** chmod(2) and friends. */
export function setMode(creds: Credentials, t: AttrTarget, mode: number): number {
  const st = t.inode.stat();
  if (typeof st === 'number') return st;
  if (creds.fsuid !== st.uid && !capable(creds, CAP_FOWNER)) return -Errno.EPERM;
  if (t.readOnly) return -Errno.EROFS;
  if (t.inode.setattr === undefined) return -Errno.EPERM;
  let m = mode & 0o7777;
  // A caller outside the file's group cannot set S_ISGID without CAP_FSETID.
  const inGroup = st.gid === creds.fsgid || creds.groups.includes(st.gid);
  if (!inGroup && !capable(creds, CAP_FSETID)) m &= ~S_ISGID;
  return t.inode.setattr({ mode: (st.mode & S_IFMT) | m });
}

/** chown(2) and friends; -1 (0xffffffff) leaves an id unchanged. */
export function setOwner(creds: Credentials, t: AttrTarget, uid: number, gid: number): number {
  const st = t.inode.stat();
  if (typeof st === 'number') return st;
  const newUid = uid === -1 || uid === 0xffffffff ? st.uid : uid;
  const newGid = gid === -1 || gid === 0xffffffff ? st.gid : gid;
  if (!capable(creds, CAP_CHOWN)) {
    if (newUid !== st.uid) return -Errno.EPERM;
    if (newGid !== st.gid) {
      if (creds.fsuid !== st.uid) return -Errno.EPERM;
      if (newGid !== creds.fsgid && !creds.groups.includes(newGid)) return -Errno.EPERM;
    }
  }
  if (t.readOnly) return -Errno.EROFS;
  if (t.inode.setattr === undefined) return -Errno.EPERM;
  // Linux clears set-user-ID (and set-group-ID with group execute) on a chown of anything
  // but a directory, whoever does it: no set-id file survives a change of owner.
  let mode: number | undefined;
  if ((st.mode & S_IFMT) !== S_IFDIR && (uid !== -1 || gid !== -1)) {
    let m = st.mode & ~S_ISUID;
    if ((st.mode & 0o010) !== 0) m &= ~S_ISGID;
    if (m !== st.mode) mode = m;
  }
  if (newUid === st.uid && newGid === st.gid && mode === undefined) return 0;
  return t.inode.setattr({ uid: newUid, gid: newGid, ...(mode !== undefined ? { mode } : {}) });
}

/** truncate(2) (checkWrite) and ftruncate(2) (the open file's mode was checked). */
export function setSize(
  creds: Credentials,
  t: AttrTarget,
  size: number,
  checkWrite: boolean,
): number {
  if (size < 0) return -Errno.EINVAL;
  const type = t.inode.type & S_IFMT;
  if (type === S_IFDIR) return -Errno.EISDIR;
  if (type !== S_IFREG) return -Errno.EINVAL;
  if (checkWrite) {
    const st = t.inode.stat();
    if (typeof st === 'number') return st;
    const perm = checkPermission(creds, st, MAY_WRITE);
    if (perm < 0) return perm;
  }
  if (t.readOnly) return -Errno.EROFS;
  if (t.inode.truncate !== undefined) return t.inode.truncate(size);
  if (t.inode.setattr !== undefined) return t.inode.setattr({ size });
  return -Errno.EPERM;
}

/** A requested time: explicit [sec, nsec], "now", or "omit" (unchanged). */
export type TimeSpec = readonly [number, number] | 'now' | 'omit';

function nowSpec(): readonly [number, number] {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

/** utimensat(2). */
export function setTimes(
  creds: Credentials,
  t: AttrTarget,
  atime: TimeSpec,
  mtime: TimeSpec,
): number {
  if (atime === 'omit' && mtime === 'omit') return 0;
  const st = t.inode.stat();
  if (typeof st === 'number') return st;
  const explicit = atime !== 'now' && atime !== 'omit' ? true : mtime !== 'now' && mtime !== 'omit';
  const owner = creds.fsuid === st.uid || capable(creds, CAP_FOWNER);
  if (!owner) {
    if (explicit) return -Errno.EPERM;
    const perm = checkPermission(creds, st, MAY_WRITE);
    if (perm < 0) return perm;
  }
  if (t.readOnly) return -Errno.EROFS;
  if (t.inode.setattr === undefined) return -Errno.EPERM;
  const now = nowSpec();
  const pick = (x: TimeSpec): readonly [number, number] | undefined =>
    x === 'omit' ? undefined : x === 'now' ? now : x;
  const a = pick(atime);
  const m = pick(mtime);
  return t.inode.setattr({
    ...(a !== undefined ? { atime: a } : {}),
    ...(m !== undefined ? { mtime: m } : {}),
  });
}
