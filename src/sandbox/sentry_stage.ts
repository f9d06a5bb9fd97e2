// How the Sentry is started: confined before Node runs a single instruction, so that none of
// its threads (nor the stubs it forks) ever holds a capability, even in its own namespaces.
//
//   moat-waiter sh -c SCRIPT <boot.json> <repo> <node> -- <sentry main.js> /boot.json
//
// The waiter (waiter_image.ts) enters new user, mount, uts, ipc, net and pid namespaces, forks
// the shell as pid 1 of the new pid namespace and waits for it, holding nothing, under a
// seccomp filter of its own. The shell waits for the launcher to map the namespace's root to
// the launcher's own ids (stage_release.ts: setgroups denied, one id each, as
// `unshare --map-root-user` maps), then, root of the sandbox's user namespace, builds the
// Sentry's world in a tmpfs
// (stage_script.ts): a copy of boot.json, read-only binds of the Node runtime and moat's
// repository, null/zero/urandom and a procfs of the sandbox's pid namespace; makes it
// read-only and pivots into it. Then `setpriv` empties every capability set (bounding
// included) and execs Node: every thread of the Sentry, and every stub it forks, is born with
// no capability at all. Everything else the Sentry needs from the host comes as an fd from the
// launcher: stdio, the Gofers' sockets, the ready socket, the control socket (bound by the
// launcher) and the log file.
//
// Never mounts anything in the host's mount namespace.

import { sentryMain } from './paths.js';
import { STAGE_FUNCTIONS } from './stage_script.js';
import { installedWaiter } from './waiter_image.js';

/** Where the boot spec is, inside the Sentry's own root. */
export const SENTRY_BOOT_PATH = '/boot.json';

const SENTRY_SCRIPT = `${STAGE_FUNCTIONS}
boot=$1 repo=$2 node=$3
shift 4
waitmap
exec 6<"$boot"
hold "$repo" "$node"
stage
cat <&6 > "$S/boot.json"
exec 6<&-
runtime "$repo" "$node"
procfs
enter
budget
# The exec of setpriv gains this namespace's capabilities, which clears the death signal
# the waiter asked for: setpriv asks for it again.
exec setpriv --bounding-set -all --inh-caps -all --ambient-caps -all --nnp --pdeathsig KILL -- \
  "$node" "$@"
`;

export interface StageCommand {
  file: string;
  args: string[];
}

/** The command that starts the Sentry of a sandbox whose boot spec is at `bootPath`. */
export function sentryCommand(repo: string, bootPath: string): StageCommand {
  return {
    file: installedWaiter(repo),
    args: [
      '/bin/sh',
      '-c',
      SENTRY_SCRIPT,
      'moat-sentry-stage',
      bootPath,
      repo,
      process.execPath,
      '--',
      sentryMain(repo),
      SENTRY_BOOT_PATH,
    ],
  };
}
