// The Gofer process's entry point:
//   node dist/src/gofer/main.js --root <absolute dir> [--readonly] --fd <n>
// started by the launcher under `unshare --mount --propagation private`, with fd n its end of a
// connected Unix socket to the Sentry. It confines itself to the root (confine.ts), then serves
// 9P2000.L on fd n synchronously until end of file and exits 0. It must never serve before
// confinement succeeded; on a usage or confinement error it prints one line on stderr and exits
// 2 (usage) or 1 (anything else).

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
import { confine } from './confine.js';
import { goferFilter } from './seccomp_filter.js';
import {
  SECCOMP_FILTER_FLAG_TSYNC,
  installSeccompFilter,
  keepOnlyCapabilities,
  setNoNewPrivs,
} from '../host/confine.js';

/** CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID. */
const GOFER_CAPABILITIES = [0, 1, 2, 3, 4];
import { LocalFs } from './local_fs.js';

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
  // Before confinement: /proc/self/fd, to reopen walked files by fd (see local_fs.ts).
  const procFd = openat(AT_FDCWD, '/proc/self/fd', O_PATH | O_DIRECTORY | O_CLOEXEC);
  const rootFd = confine(opts.root, opts.readonly === true);
  // Only the capabilities serving files as the container's users needs; no_new_privs; the
  // seccomp filter on every thread.
  const caps = keepOnlyCapabilities(GOFER_CAPABILITIES);
  const sc =
    setNoNewPrivs() < 0 ? -1 : installSeccompFilter(goferFilter(), SECCOMP_FILTER_FLAG_TSYNC);
  if (caps < 0 || sc < 0) {
    process.stderr.write(`gofer: confine: capabilities ${caps}, seccomp ${sc}\n`);
    return 1;
  }
  const fs = new LocalFs(
    rootFd,
    opts.readonly === true,
    typeof procFd === 'number' ? undefined : procFd,
  );
  const log = opts.debug === true ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
  const r = serve(sock, fs, log);
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
