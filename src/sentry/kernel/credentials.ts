// A task's credentials as Linux keeps them (credentials(7), capabilities(7)): real, effective,
// saved and file-system ids, supplementary groups, the five capability sets, and the set-id
// transitions with their effect on capabilities. Pure functions over a Credentials value; the
// syscalls (sys_identity.ts) decide what to store. Never grants a capability that the
// permitted set (or, for the bounding and inheritable sets, the rules) does not allow.

import { Errno } from '../../abi/linux/errno.js';
import { CAP_SETGID, CAP_SETPCAP, CAP_SETUID } from '../../abi/linux/capability.js';
import type { Credentials } from '../syscalls/types.js';

/** Whether `c` holds capability `cap` in its effective set. */
export function capable(c: Credentials, cap: number): boolean {
  return (c.capEff & (1n << BigInt(cap))) !== 0n;
}

/** The credentials with every capability set from `sets` (boot, and tests). */
export function withCaps(
  c: Omit<
    Credentials,
    'capEff' | 'capPrm' | 'capInh' | 'capBnd' | 'capAmb' | 'fsuid' | 'fsgid' | 'keepCaps'
  >,
  sets: { eff: bigint; prm: bigint; inh: bigint; bnd: bigint; amb: bigint },
): Credentials {
  return {
    ...c,
    fsuid: c.euid,
    fsgid: c.egid,
    capEff: sets.eff,
    capPrm: sets.prm,
    capInh: sets.inh,
    capBnd: sets.bnd,
    capAmb: sets.amb,
    keepCaps: false,
  };
}

/**
 * Linux's cap_emulate_setxuid: after a change of user ids from `old` to `c`, capabilities
 * follow root-ness. All of ruid, euid, suid leaving 0 clears permitted, effective and
 * ambient (unless keepCaps); euid leaving 0 clears effective; euid becoming 0 restores
 * effective from permitted. fsuid follows euid.
 */
function emulateSetxuid(old: Credentials, c: Credentials): void {
  const wasRoot = old.uid === 0 || old.euid === 0 || old.suid === 0;
  const isRoot = c.uid === 0 || c.euid === 0 || c.suid === 0;
  if (wasRoot && !isRoot) {
    if (!c.keepCaps) c.capPrm = 0n;
    c.capEff = 0n;
    c.capAmb = 0n;
  }
  if (old.euid === 0 && c.euid !== 0) c.capEff = 0n;
  if (old.euid !== 0 && c.euid === 0) c.capEff = c.capPrm;
  c.fsuid = c.euid;
}

const UNCHANGED = 0xffffffff;

function id(v: number): number | undefined {
  return v === UNCHANGED || v === -1 ? undefined : v >>> 0;
}

/** setresuid(2) on `c` (in place); 0 or -errno. */
export function setresuid(c: Credentials, r: number, e: number, s: number): number {
  const [ru, eu, su] = [id(r), id(e), id(s)];
  if (!capable(c, CAP_SETUID)) {
    const ok = (v: number | undefined): boolean =>
      v === undefined || v === c.uid || v === c.euid || v === c.suid;
    if (!ok(ru) || !ok(eu) || !ok(su)) return -Errno.EPERM;
  }
  const old = { ...c };
  if (ru !== undefined) c.uid = ru;
  if (eu !== undefined) c.euid = eu;
  if (su !== undefined) c.suid = su;
  emulateSetxuid(old, c);
  return 0;
}

/** setreuid(2): the saved id follows the effective one when the real changes or euid ≠ old ruid. */
export function setreuid(c: Credentials, r: number, e: number): number {
  const [ru, eu] = [id(r), id(e)];
  if (!capable(c, CAP_SETUID)) {
    if (ru !== undefined && ru !== c.uid && ru !== c.euid) return -Errno.EPERM;
    if (eu !== undefined && eu !== c.uid && eu !== c.euid && eu !== c.suid) return -Errno.EPERM;
  }
  const old = { ...c };
  if (ru !== undefined) c.uid = ru;
  if (eu !== undefined) c.euid = eu;
  if (ru !== undefined || (eu !== undefined && eu !== old.uid)) c.suid = c.euid;
  emulateSetxuid(old, c);
  return 0;
}

/** setuid(2): with CAP_SETUID all three ids; else the effective one, to the real or saved. */
export function setuid(c: Credentials, u: number): number {
  const v = u >>> 0;
  if (u === -1 || v === UNCHANGED) return -Errno.EINVAL;
  const old = { ...c };
  if (capable(c, CAP_SETUID)) {
    c.uid = v;
    c.euid = v;
    c.suid = v;
  } else if (v === c.uid || v === c.suid) c.euid = v;
  else return -Errno.EPERM;
  emulateSetxuid(old, c);
  return 0;
}

/** setresgid(2). */
export function setresgid(c: Credentials, r: number, e: number, s: number): number {
  const [rg, eg, sg] = [id(r), id(e), id(s)];
  if (!capable(c, CAP_SETGID)) {
    const ok = (v: number | undefined): boolean =>
      v === undefined || v === c.gid || v === c.egid || v === c.sgid;
    if (!ok(rg) || !ok(eg) || !ok(sg)) return -Errno.EPERM;
  }
  if (rg !== undefined) c.gid = rg;
  if (eg !== undefined) c.egid = eg;
  if (sg !== undefined) c.sgid = sg;
  c.fsgid = c.egid;
  return 0;
}

/** setregid(2). */
export function setregid(c: Credentials, r: number, e: number): number {
  const [rg, eg] = [id(r), id(e)];
  if (!capable(c, CAP_SETGID)) {
    if (rg !== undefined && rg !== c.gid && rg !== c.egid) return -Errno.EPERM;
    if (eg !== undefined && eg !== c.gid && eg !== c.egid && eg !== c.sgid) return -Errno.EPERM;
  }
  const oldGid = c.gid;
  if (rg !== undefined) c.gid = rg;
  if (eg !== undefined) c.egid = eg;
  if (rg !== undefined || (eg !== undefined && eg !== oldGid)) c.sgid = c.egid;
  c.fsgid = c.egid;
  return 0;
}

/** setgid(2). */
export function setgid(c: Credentials, g: number): number {
  const v = g >>> 0;
  if (g === -1 || v === UNCHANGED) return -Errno.EINVAL;
  if (capable(c, CAP_SETGID)) {
    c.gid = v;
    c.egid = v;
    c.sgid = v;
  } else if (v === c.gid || v === c.sgid) c.egid = v;
  else return -Errno.EPERM;
  c.fsgid = c.egid;
  return 0;
}

/** setfsuid(2): returns the old fsuid whatever happens (Linux's odd contract). */
export function setfsuid(c: Credentials, u: number): number {
  const old = c.fsuid;
  const v = u >>> 0;
  if (u === -1 || v === UNCHANGED) return old;
  if (capable(c, CAP_SETUID) || [c.uid, c.euid, c.suid, c.fsuid].includes(v)) c.fsuid = v;
  return old;
}

/** setfsgid(2). */
export function setfsgid(c: Credentials, g: number): number {
  const old = c.fsgid;
  const v = g >>> 0;
  if (g === -1 || v === UNCHANGED) return old;
  if (capable(c, CAP_SETGID) || [c.gid, c.egid, c.sgid, c.fsgid].includes(v)) c.fsgid = v;
  return old;
}

/**
 * capset(2) on the caller's own sets (cap_capset): permitted may only shrink; effective must
 * lie within the new permitted; inheritable may grow only within permitted (or with
 * CAP_SETPCAP, within the bounding set).
 */
export function capset(c: Credentials, eff: bigint, prm: bigint, inh: bigint): number {
  if ((prm & ~c.capPrm) !== 0n) return -Errno.EPERM;
  if ((eff & ~prm) !== 0n) return -Errno.EPERM;
  const inhLimit = capable(c, CAP_SETPCAP) ? c.capInh | c.capBnd : c.capInh | c.capPrm;
  if ((inh & ~inhLimit) !== 0n) return -Errno.EPERM;
  if ((inh & ~(c.capInh | c.capBnd)) !== 0n) return -Errno.EPERM;
  c.capEff = eff;
  c.capPrm = prm;
  c.capInh = inh;
  // Ambient capabilities must stay within permitted and inheritable.
  c.capAmb &= prm & inh;
  return 0;
}

/**
 * The capability sets after execve of a file with no file capabilities and no set-id bits
 * (cap_bprm_creds_from_file): a root process (real or effective uid 0) gets the bounding set
 * (and its inheritable set) as permitted, effective when euid is 0, and loses its ambient set;
 * any other process keeps only its ambient set, as permitted and effective.
 */
export function execCapabilities(c: Credentials): void {
  if (c.uid === 0 || c.euid === 0) {
    c.capPrm = c.capBnd | c.capInh;
    c.capEff = c.euid === 0 ? c.capPrm : 0n;
    c.capAmb = 0n;
  } else {
    c.capPrm = c.capAmb;
    c.capEff = c.capAmb;
  }
  c.keepCaps = false;
}

/**
 * The ids after execve of a file with mode `mode` owned by `uid`:`gid` (bprm_fill_uid):
 * set-user-ID makes it the effective uid, set-group-ID with group execute the effective gid,
 * unless `ignoreSetid` (a nosuid mount, no_new_privs). The saved ids become the effective
 * ones; capabilities then follow (execCapabilities). Returns new credentials.
 */
export function execCredentials(
  c: Credentials,
  st: { mode: number; uid: number; gid: number },
  ignoreSetid: boolean,
): Credentials {
  const n: Credentials = { ...c, groups: [...c.groups] };
  if (!ignoreSetid) {
    if ((st.mode & 0o4000) !== 0) n.euid = st.uid;
    if ((st.mode & 0o2000) !== 0 && (st.mode & 0o010) !== 0) n.egid = st.gid;
  }
  n.suid = n.euid;
  n.fsuid = n.euid;
  n.sgid = n.egid;
  n.fsgid = n.egid;
  execCapabilities(n);
  return n;
}
