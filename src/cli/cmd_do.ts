// `moat do [--] CMD [ARGS...]`: the zero-set-up entry point. Runs CMD in a sandbox whose root
// is the host's "/" (read-only), in the caller's cwd when it exists, with only PATH, HOME,
// TERM and LANG of the caller's environment, under a generated id and a temporary state
// root; foreground like `run`; returns CMD's exit status and removes everything it made. The
// sandbox is tied to this process: if it is killed, the sandbox ends too.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CAP_NAMES } from '../abi/linux/capability.js';
import { StateStore } from '../oci/state_store.js';
import { sweepStaleDoCgroups } from '../sandbox/cgroups.js';
import { DEFAULT_OCI_VERSION } from '../oci/spec_default.js';
import type { Spec } from '../oci/spec_types.js';
import { validateSpec } from '../oci/spec_validate.js';
import { createContainer, deleteContainer } from '../sandbox/container.js';
import type { CreateParams } from '../sandbox/container.js';
import { parseArgs } from './args.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';
import { runForeground } from './foreground.js';

const PASSED_ENV = ['PATH', 'HOME', 'TERM', 'LANG'];
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function callerCwd(): string {
  try {
    const cwd = process.cwd();
    // The sandbox has a fresh tmpfs on /tmp: a directory of the host's /tmp is not there.
    if (cwd === '/tmp' || cwd.startsWith('/tmp/')) return '/';
    return fs.statSync(cwd).isDirectory() ? cwd : '/';
  } catch {
    return '/';
  }
}

/** The names of the capabilities in one set of this process (/proc/self/status). */
function ownCaps(field: string): string[] {
  let mask = 0n;
  try {
    const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(
      fs.readFileSync('/proc/self/status', 'utf8'),
    );
    if (m?.[1] !== undefined) mask = BigInt(`0x${m[1]}`);
  } catch {
    mask = 0n;
  }
  return CAP_NAMES.filter((_, i) => ((mask >> BigInt(i)) & 1n) === 1n);
}

/** The caller's own no_new_privs bit. */
function ownNoNewPrivs(): boolean {
  try {
    return /^NoNewPrivs:\s*1$/m.test(fs.readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return true;
  }
}

/** The spec `do` runs: validated like any config.json, so it obeys the same rules. */
export function doSpec(args: string[]): Spec {
  const uid = process.getuid?.() ?? 0;
  // The same privilege the caller has natively: its own capability sets.
  const caps = {
    bounding: ownCaps('CapBnd'),
    effective: ownCaps('CapEff'),
    permitted: ownCaps('CapPrm'),
    inheritable: ownCaps('CapInh'),
    ambient: ownCaps('CapAmb'),
  };
  const env = PASSED_ENV.flatMap((k) => {
    const v = process.env[k];
    return v === undefined ? [] : [`${k}=${v}`];
  });
  if (process.env.PATH === undefined) env.unshift(`PATH=${DEFAULT_PATH}`);
  return validateSpec({
    ociVersion: DEFAULT_OCI_VERSION,
    process: {
      terminal: false,
      user: { uid, gid: process.getgid?.() ?? 0 },
      capabilities: caps,
      args,
      env,
      cwd: callerCwd(),
      // As the caller runs natively: no_new_privs only if the caller has it.
      noNewPrivileges: ownNoNewPrivs(),
    },
    root: { path: '/', readonly: true },
    hostname: 'moat',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=1777'] },
    ],
  });
}

export async function cmdDo(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, [], { stopAtPositional: true });
  if (p.positionals.length === 0) {
    throw new CliError('CLI_USAGE', 'do: expected a command to run: moat do -- CMD [ARGS...]');
  }
  const spec = doSpec(p.positionals);
  // Earlier `moat do` runs that were killed could not remove their cgroups.
  sweepStaleDoCgroups();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-do-'));
  const store = new StateStore(root);
  const id = `do-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const params: CreateParams = {
      id,
      bundleDir: '/',
      rootfs: '/',
      spec,
      logFormat: ctx.globals.logFormat,
      debug: ctx.globals.debug,
      ...(ctx.globals.platform !== undefined ? { platform: ctx.globals.platform } : {}),
      // Its state root is temporary and nobody could list or delete it: it ends with us.
      tied: true,
    };
    if (ctx.globals.log !== undefined) params.logPath = ctx.globals.log;
    const created = await createContainer(store, params);
    return await runForeground({ ...ctx, store }, created);
  } catch (e) {
    if (store.exists(id)) await deleteContainer(store, id, true).catch(() => undefined);
    throw e;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
