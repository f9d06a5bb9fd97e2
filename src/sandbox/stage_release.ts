// Lets a starting stage go on once it has entered its user namespace: the sandbox waiter
// (waiter_image.ts) makes the namespace, and the launcher writes its identity maps from
// outside, which the stage's shell waits to see (`waitmap` in stage_script.ts). Writing from
// outside is what lets a Gofer's namespace map every id as itself (only a process with
// CAP_SETUID and CAP_SETGID in the parent namespace may write more than one id), and leaves
// the waiter nothing to do but wait.
//
// Never writes a map for a process that has not left this process's user namespace (its
// own maps are not ours to touch), and never waits past its deadline.

import * as fs from 'node:fs';

/** The maps one stage's user namespace gets. */
export interface IdMaps {
  uid: string;
  gid: string;
  /** Write "deny" to setgroups first (the Sentry's namespace, as `unshare --map-root-user`). */
  denySetgroups: boolean;
}

/** A Gofer's namespace: every id as itself, so that files keep their owners. */
export const GOFER_MAPS: IdMaps = {
  uid: '0 0 4294967295\n',
  gid: '0 0 4294967295\n',
  denySetgroups: false,
};

/** The Sentry's namespace: its root is the launcher's own ids, and nothing else is mapped. */
export function sentryMaps(): IdMaps {
  return {
    uid: `0 ${process.geteuid?.() ?? 0} 1\n`,
    gid: `0 ${process.getegid?.() ?? 0} 1\n`,
    denySetgroups: true,
  };
}

/** The stage (host pid `pid`) has entered a user namespace of its own. */
function entered(pid: number, own: string): boolean {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/user`) !== own;
  } catch {
    throw new Error('it exited before entering its user namespace');
  }
}

function writeMaps(pid: number, maps: IdMaps): void {
  if (maps.denySetgroups) fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny');
  fs.writeFileSync(`/proc/${pid}/uid_map`, maps.uid);
  fs.writeFileSync(`/proc/${pid}/gid_map`, maps.gid);
}

/**
 * Waits until the stage (host pid `pid`) has entered its user namespace, then writes its
 * maps. Rejects if it does not get there in time or exits first.
 */
export async function releaseStage(pid: number, maps: IdMaps, timeoutMs = 10_000): Promise<void> {
  const own = fs.readlinkSync('/proc/self/ns/user');
  const deadline = Date.now() + timeoutMs;
  while (!entered(pid, own)) {
    if (Date.now() > deadline) throw new Error('it did not enter its user namespace in time');
    await new Promise((r) => setTimeout(r, 2));
  }
  writeMaps(pid, maps);
}

/** releaseStage for callers that cannot wait asynchronously (tests' synchronous peers). */
export function releaseStageSync(pid: number, maps: IdMaps, timeoutMs = 10_000): void {
  const own = fs.readlinkSync('/proc/self/ns/user');
  const deadline = Date.now() + timeoutMs;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!entered(pid, own)) {
    if (Date.now() > deadline) throw new Error('it did not enter its user namespace in time');
    Atomics.wait(cell, 0, 0, 2);
  }
  writeMaps(pid, maps);
}
