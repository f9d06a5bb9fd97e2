// Discretionary access checks (generic_permission): the owner/group/other mode bits against
// the caller's file-system ids, then the capabilities that override them: CAP_DAC_OVERRIDE
// (read and write anything; execute when any execute bit is set, or a directory) and
// CAP_DAC_READ_SEARCH (read anything, search directories). Pure functions; never throw.

import { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH } from '../../abi/linux/capability.js';
import { capable } from '../kernel/credentials.js';
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
  let bits: number;
  if (st.uid === creds.fsuid) bits = (st.mode >>> 6) & 7;
  else if (st.gid === creds.fsgid || creds.groups.includes(st.gid)) bits = (st.mode >>> 3) & 7;
  else bits = st.mode & 7;
  if ((bits & want) === want) return 0;
  const dir = (st.mode & S_IFMT) === S_IFDIR;
  if (capable(creds, CAP_DAC_OVERRIDE)) {
    if ((want & MAY_EXEC) === 0 || dir || (st.mode & 0o111) !== 0) return 0;
  }
  if (capable(creds, CAP_DAC_READ_SEARCH)) {
    if ((want & ~(MAY_READ | MAY_EXEC)) === 0 && (dir || (want & MAY_EXEC) === 0)) return 0;
  }
  return -Errno.EACCES;
}

/**
 * Credentials whose file-system ids are the real ones (access(2) without AT_EACCESS); a
 * non-root real user keeps no capability for the check, as Linux's access_override_creds.
 */
export function realIdCreds(c: Credentials): Credentials {
  const capEff = c.uid === 0 ? c.capPrm : 0n;
  return { ...c, euid: c.uid, egid: c.gid, fsuid: c.uid, fsgid: c.gid, capEff };
}
