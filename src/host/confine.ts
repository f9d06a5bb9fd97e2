// Confinement calls for the Sentry's own process: drop every capability of the calling thread
// (effective, permitted, inheritable, ambient, bounding) and set no_new_privs. The Sentry runs
// in a user namespace of its own, so its other threads hold no capability on the host either.
// Nothing here may ever raise a privilege.

import { check, libc } from './libc.js';

// SAFETY: capset reads an 8-byte header and two 12-byte data structs from buffers we own.
const capset_ = libc.func('int capset(void*, void*)');
// SAFETY: prctl with integer arguments only.
const prctl_ = libc.func(
  'int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)',
);

const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** Drops every capability of the calling thread; 0 or the first -errno. */
export function dropAllCapabilities(): number {
  for (let cap = 0; cap < 64; cap++) {
    const r = check(prctl_(PR_CAPBSET_DROP, cap, 0, 0, 0) as number);
    if (r < 0) break; // EINVAL past the last capability the kernel knows
  }
  const amb = check(prctl_(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) as number);
  if (amb < 0) return amb;
  const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
  const data = new Uint32Array(6);
  return check(capset_(header, data) as number);
}

export function setNoNewPrivs(): number {
  return check(prctl_(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as number);
}
