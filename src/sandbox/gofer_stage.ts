// How a Gofer is started: confined before Node runs a single instruction, so that every
// thread of it is born without a capability on the host.
//
//   unshare --mount --pid --net --ipc --fork --kill-child --propagation private --
//     sh -c STAGE_SCRIPT  <root> <ro|rw> <repo> <node> <file entry name> -- <gofer args>
//
// Stage 1, the shell above, still host root but in fresh mount, pid, net and ipc namespaces,
// builds the Gofer's whole world in a tmpfs: `root/` (the served tree, bound through an fd
// held before the tmpfs could hide its path; read-only when asked; for a file, a directory
// whose one entry is the file), read-only binds of what Node needs to run (/usr and the
// other system directories, ld.so.cache, node's own directory, moat's repository), /dev/null
// and /dev/urandom, and a procfs of its own pid namespace. The tmpfs is made read-only and
// becomes "/" by pivot_root; the old root is detached. Then stage 2 (the same process, pid 1
// of the Gofer's pid namespace) enters a new user namespace that maps every id to itself
// (written from outside by a helper that then exits: only a process with CAP_SETUID in the
// parent namespace may write such a map), and execs Node under
// `setpriv --bounding-set` with only the file capabilities (chown, dac_override, fowner,
// fsetid): those, in the Gofer's own user namespace, are all any thread of it ever holds.
// No Gofer thread can mount (its mount namespace belongs to the host's user namespace),
// open_by_handle_at (needs CAP_DAC_READ_SEARCH on the host) or see a host process.
//
// What keeps host capabilities afterwards is only `unshare` itself, in the host's pid
// namespace, which does nothing but wait for the Gofer and kill it if it is killed itself.
// Never mounts anything in the host's mount namespace; never starts Node before the map is
// written (stage 2 waits on a FIFO).

import { FILE_MOUNT_NAME } from '../p9/client_api.js';
import { goferMain, unsharePath } from './paths.js';
import { STAGE_FUNCTIONS } from './stage_script.js';

/** The capabilities the Gofer serves files with, by setpriv's names. */
export const GOFER_CAPABILITY_NAMES = ['chown', 'dac_override', 'fowner', 'fsetid'] as const;

/** Where the served tree is, inside the Gofer's own root. */
export const GOFER_TREE = '/root';

const STAGE_SCRIPT = `${STAGE_FUNCTIONS}
root=$1 mode=$2 repo=$3 node=$4 entry=$5
shift 6
# Hold every source first: the staging tmpfs may cover its path.
exec 7<"$root"
hold "$repo" "$node"
stage
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
mkfifo -m 0600 "$S/sync"
enter
budget
# A short-lived helper, still in the host's user namespace, maps every id to itself once this
# process (pid 1 here) has entered its new one, then lets it go on. Only a process with
# CAP_SETUID in the parent namespace may write such a map.
(
  me=$(readlink /proc/self/ns/user)
  n=0
  while [ "$(readlink /proc/1/ns/user)" = "$me" ]; do
    n=$((n + 1)); [ $n -lt 10000 ] || exit 125
  done
  echo '0 0 4294967295' > /proc/1/uid_map
  echo '0 0 4294967295' > /proc/1/gid_map
  echo go > /sync
) &
exec unshare --user -- /bin/sh -c 'read -r go < /sync; [ "$go" = go ] || exit 125; exec "$@"' moat-gofer \
  setpriv --bounding-set -all,${GOFER_CAPABILITY_NAMES.map((c) => `+${c}`).join(',')} --inh-caps -all \
  --ambient-caps -all --nnp -- "$node" "$@"
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
  const ns = ['--mount', '--pid', '--net', '--ipc', '--fork', '--kill-child'];
  return {
    file: unsharePath(),
    args: [
      ...ns,
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      STAGE_SCRIPT,
      'moat-gofer-stage',
      root,
      readonly ? 'ro' : 'rw',
      repo,
      process.execPath,
      FILE_MOUNT_NAME,
      '--',
      ...gofer,
    ],
  };
}
