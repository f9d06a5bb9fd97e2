// Discretionary access checks: the owner/group/other mode bits against the caller's
// credentials, with uid 0 bypassing read/write checks as Linux's CAP_DAC_OVERRIDE does (and
// execute checks when any execute bit is set, or on directories). Pure functions; never throw.

import { Errno } from '../../abi/linux/errno.js';
import { R_OK, S_IFDIR, S_IFMT, W_OK, X_OK, type Stat } from '../../abi/linux/file.js';
import type { Credentials } from '../syscalls/types.js';

export const MAY_READ = R_OK;
export const MAY_WRITE = W_OK;
export const MAY_EXEC = X_OK;

/** 0 if `creds` (its effective ids) may access a file with attributes `st` for `mask`, else -EACCES. */
export function checkPermission(creds: Credentials, st: Stat, mask: number): number {
  const want = mask & 7;
  if (want === 0) return 0;
  if (creds.euid === 0) {
    if ((want & MAY_EXEC) === 0) return 0;
    if ((st.mode & S_IFMT) === S_IFDIR || (st.mode & 0o111) !== 0) return 0;
    return -Errno.EACCES;
  }
  let bits: number;
  if (st.uid === creds.euid) bits = (st.mode >>> 6) & 7;
  else if (st.gid === creds.egid || creds.groups.includes(st.gid)) bits = (st.mode >>> 3) & 7;
  else bits = st.mode & 7;
  return (bits & want) === want ? 0 : -Errno.EACCES;
}

/** Credentials whose effective ids are the real ones (access(2) without AT_EACCESS). */
export function realIdCreds(c: Credentials): Credentials {
  return { ...c, euid: c.uid, egid: c.gid };
}
