// The Gofer process's entry point:
//   node dist/src/gofer/main.js --root <absolute dir> [--readonly] --fd <n>
// started by the launcher's stage (src/sandbox/gofer_stage.ts), already confined: its root is
// a read-only tmpfs holding the served tree at --root, in its own user, mount, pid, net and ipc
// namespaces, every thread born with only the file capabilities. fd n is its end of a connected
// Unix socket to the Sentry. It checks that it is so confined (it refuses to serve otherwise),
// keeps only the file capabilities on the main thread, installs its seccomp filter on every
// thread, then serves 9P2000.L on fd n synchronously until end of file and exits 0. On a usage
// or confinement error it prints one line on stderr and exits 2 (usage) or 1 (anything else).

import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { HostFd } from '../host/fd.js';
import {
  AT_FDCWD,
  getStatusFlags,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NONBLOCK,
  O_PATH,
  openat,
  setStatusFlags,
} from '../host/fs.js';
import { serve } from '../p9/server.js';
import { goferFilter } from './seccomp_filter.js';
import {
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_TSYNC,
  installSeccompFilter,
  keepOnlyCapabilities,
  setNoNewPrivs,
  setParentDeathSignal,
} from '../host/confine.js';

import { LocalFs } from './local_fs.js';

/** CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID. */
const GOFER_CAPABILITIES = [0, 1, 3, 4];
const INIT_USER_NS_INODE = 0xeffffffd;
const GOFER_MASK = GOFER_CAPABILITIES.reduce((m, c) => m | (1n << BigInt(c)), 0n);

/**
 * Why this process is not confined as the stage confines a Gofer, or undefined: a capability
 * beyond the file ones in its bounding set, or no user namespace of its own.
 */
function confinementProblem(): string | undefined {
  let status: string;
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    return 'no procfs of its own';
  }
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (bnd === undefined) return 'cannot read its capabilities';
  let userns = '';
  try {
    userns = fs.readlinkSync('/proc/self/ns/user');
  } catch {
    return 'cannot read its user namespace';
  }
  // The host's (initial) user namespace always has this inode number.
  if (userns === `user:[${INIT_USER_NS_INODE}]`) return 'it runs in the host user namespace';
  if ((BigInt(`0x${bnd}`) & ~GOFER_MASK) !== 0n) {
    return `its bounding set holds more than the file capabilities (CapBnd ${bnd}): start it through the launcher's stage`;
  }
  return undefined;
}

function main(argv: string[]): number {
  let opts;
  try {
    opts = parseArgs({
      args: argv,
      options: {
        root: { type: 'string' },
        readonly: { type: 'boolean', default: false },
        fd: { type: 'string' },
        debug: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`gofer: usage: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const fdNo = Number(opts.fd);
  if (
    opts.root === undefined ||
    !opts.root.startsWith('/') ||
    !Number.isInteger(fdNo) ||
    fdNo < 0
  ) {
    process.stderr.write('gofer: usage: --root <absolute dir> [--readonly] --fd <n>\n');
    return 2;
  }
  const sock = new HostFd(fdNo);
  // The loop is synchronous: the socket must block (a caller may hand over a non-blocking one).
  const fl = getStatusFlags(sock);
  if (fl >= 0 && (fl & O_NONBLOCK) !== 0) setStatusFlags(sock, fl & ~O_NONBLOCK);
  // Ends with its `unshare`, which ends with the sandbox (the socket's EOF ends it too).
  setParentDeathSignal(9);
  const unconfined = confinementProblem();
  if (unconfined !== undefined) {
    process.stderr.write(`gofer: refusing to serve: ${unconfined}\n`);
    return 1;
  }
  // The Gofer's own procfs (its own pid namespace): to reopen walked files by fd (local_fs.ts).
  const procFd = openat(AT_FDCWD, '/proc/self/fd', O_PATH | O_DIRECTORY | O_CLOEXEC);
  const rootFd = openat(AT_FDCWD, opts.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (typeof rootFd === 'number') {
    process.stderr.write(`gofer: open ${opts.root}: errno ${-rootFd}\n`);
    return 1;
  }
  // Only the capabilities serving files as the container's users needs; no_new_privs; the
  // seccomp filter on every thread.
  const caps = keepOnlyCapabilities(GOFER_CAPABILITIES);
  const sc =
    setNoNewPrivs() < 0
      ? -1
      : installSeccompFilter(
          goferFilter(),
          SECCOMP_FILTER_FLAG_TSYNC | (opts.debug === true ? SECCOMP_FILTER_FLAG_LOG : 0),
        );
  if (caps < 0 || sc < 0) {
    process.stderr.write(`gofer: confine: capabilities ${caps}, seccomp ${sc}\n`);
    return 1;
  }
  const local = new LocalFs(
    rootFd,
    opts.readonly === true,
    typeof procFd === 'number' ? undefined : procFd,
  );
  const log = opts.debug === true ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
  const r = serve(sock, local, log);
  sock.close();
  rootFd.close();
  return r < 0 ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
