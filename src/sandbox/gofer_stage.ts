// How a Gofer is started: confined before Node runs a single instruction, so that every
// thread of it is born without a capability on the host.
//
//   unshare --mount --propagation private -- env STAGE1=… sh -c STAGE0 <root> <ro|rw> <repo>
//     <node> <file entry name> <waiter> -- <gofer args>
//
// Stage 1 (STAGE0), host root in a private mount namespace, builds the Gofer's world in a
// tmpfs: `root/` (the served tree, bound alone — never the mounts beneath it — through an fd
// held before the tmpfs could hide its path; read-only when asked; for a file, a directory
// whose one entry is the file), read-only binds of what Node needs (/usr and the other system
// directories, ld.so.cache, node's directory, moat's repository), /dev/null, /dev/zero,
// /dev/urandom. Then the same process execs the sandbox waiter (waiter_image.ts): it enters
// new user, mount, uts, pid, net and ipc namespaces (so that no process of the Gofer stays in
// the host's), forks pid 1 of the new pid namespace, stage 2 (STAGE1), and waits for it under
// a seccomp filter of its own with no capability and no fd. Stage 2 waits for the identity
// map the launcher writes from outside (releaseGofer: only a process with CAP_SETUID in the
// parent namespace may write a map of every id), mounts its own procfs, pivots into the tmpfs
// (through an rbind of its own: pivot_root refuses the mounts a new namespace inherits
// locked), makes it read-only, caps its fds, and execs Node under `setpriv --bounding-set`
// with only chown, dac_override, fowner, fsetid. No Gofer thread can mount (its stage
// created its mounts), open_by_handle_at (needs CAP_DAC_READ_SEARCH on the host) or see a
// host process; the waiter holds nothing and may only wait.
//
// Never mounts anything in the host's mount namespace; never starts Node before the map is
// written.

import { FILE_MOUNT_NAME } from '../p9/client_api.js';
import { goferMain, unsharePath } from './paths.js';
import { GOFER_MAPS, releaseStage, releaseStageSync } from './stage_release.js';
import { STAGE_FUNCTIONS } from './stage_script.js';
import { installedWaiter } from './waiter_image.js';

/** The capabilities the Gofer serves files with, by setpriv's names. */
export const GOFER_CAPABILITY_NAMES = ['chown', 'dac_override', 'fowner', 'fsetid'] as const;

/** Where the served tree is, inside the Gofer's own root. */
export const GOFER_TREE = '/root';

/** Stage 1, still host root in a private mount namespace: the Gofer's world in a tmpfs. */
const STAGE0 = `${STAGE_FUNCTIONS}
root=$1 mode=$2 repo=$3 node=$4 entry=$5 waiter=$6
shift 7
# Hold every source first: the staging tmpfs may cover its path.
exec 7<"$root" 6<"$waiter"
hold "$repo" "$node"
stage
# The waiter runs from the staging tmpfs (its path may be under the tmpfs's mount point);
# stage 2 removes it.
cat <&6 > "$S/moat-waiter"
exec 6<&-
chmod 0755 "$S/moat-waiter"
mkdir "$S/root"
if [ -d /proc/self/fd/7 ]; then
  mount --bind /proc/self/fd/7 "$S/root"
  if [ "$mode" = ro ]; then ro "$S/root"; fi
else
  : > "$S/root/$entry"
  mount --bind /proc/self/fd/7 "$S/root/$entry"
  if [ "$mode" = ro ]; then ro "$S/root/$entry"; fi
fi
exec 7<&-
runtime "$repo" "$node"
# Stage 2 in new user, mount, uts, pid, net and ipc namespaces: this very process enters them
# (no process of the Gofer's stays in the host's user namespace) and forks pid 1.
exec "$S/moat-waiter" /bin/sh -c "$STAGE1" moat-gofer-stage2 "$root" "$node" "$@"
`;

/**
 * Stage 2, root of the Gofer's own user namespace once the launcher has written its identity
 * map (it waits to see it): its procfs, the tmpfs made read-only and pivoted into (through
 * a bind of its own: pivot_root refuses the mounts a new namespace inherits locked), the fd
 * budget, and Node with only the file capabilities.
 */
const STAGE1 = `${STAGE_FUNCTIONS}
unset STAGE1
# $1, the served tree's host path, only names the process (ps, and tests that find it).
node=$2
shift 2
# Until the launcher has written the identity map, nothing here may touch a file; a launcher
# that died first never will.
waitmap
rm -f "$S/moat-waiter"
procfs
mount --rbind "$S" "$S"
enter
budget
# The exec of setpriv gains this namespace's capabilities, which clears the death signal
# the waiter asked for: setpriv asks for it again.
exec setpriv --bounding-set -all,${GOFER_CAPABILITY_NAMES.map((c) => `+${c}`).join(',')} --inh-caps -all \\
  --ambient-caps -all --nnp --pdeathsig KILL -- "$node" "$@"
`;

export interface GoferCommand {
  file: string;
  args: string[];
}

/** The command that starts a confined Gofer serving `root` on fd 3. */
export function goferCommand(
  repo: string,
  root: string,
  readonly: boolean,
  debug: boolean,
): GoferCommand {
  const gofer = [goferMain(repo), '--root', GOFER_TREE];
  if (readonly) gofer.push('--readonly');
  gofer.push('--fd', '3');
  if (debug) gofer.push('--debug');
  return {
    file: unsharePath(),
    args: [
      '--mount',
      '--propagation',
      'private',
      '--',
      '/usr/bin/env',
      `STAGE1=${STAGE1}`,
      '/bin/sh',
      '-c',
      STAGE0,
      'moat-gofer-stage',
      root,
      readonly ? 'ro' : 'rw',
      repo,
      process.execPath,
      FILE_MOUNT_NAME,
      installedWaiter(repo),
      '--',
      ...gofer,
    ],
  };
}

/** Lets a starting Gofer (host pid `pid`) go on: its identity maps (stage_release.ts). */
export function releaseGofer(pid: number, timeoutMs = 10_000): Promise<void> {
  return releaseStage(pid, GOFER_MAPS, timeoutMs);
}

/** releaseGofer for callers that cannot wait asynchronously (tests' synchronous peers). */
export function releaseGoferSync(pid: number, timeoutMs = 10_000): void {
  releaseStageSync(pid, GOFER_MAPS, timeoutMs);
}
