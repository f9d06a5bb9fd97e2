// `moat create [flags] <id>` (runc create): validates the bundle, starts the sandbox with
// the init process loaded but not running, records the state and exits, leaving the
// sandbox running in its own session. Also holds the bundle-to-container step that `run`
// shares. Prints nothing on success.

import * as fs from 'node:fs';
import { loadBundle } from '../oci/bundle.js';
import { checkId } from '../oci/container_id.js';
import { type CreateParams, type CreatedContainer, createContainer } from '../sandbox/container.js';
import { type FlagSpec, type ParsedArgs, exactlyOne, parseArgs, stringFlag } from './args.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

export const CREATE_FLAGS: readonly FlagSpec[] = [
  { name: 'bundle', short: 'b', kind: 'string' },
  { name: 'pid-file', kind: 'string' },
  { name: 'console-socket', kind: 'string' },
  { name: 'no-pivot', kind: 'bool' },
  { name: 'no-new-keyring', kind: 'bool' },
  { name: 'preserve-fds', kind: 'string' },
];

/**
 * Where the Gofer's stderr goes: a text --log file when there is one, else the caller's
 * stderr. Never a json log: its raw lines would break the readers of that format.
 */
function openGoferLog(ctx: CliContext): number | undefined {
  const f = ctx.globals.log;
  if (f === undefined || f === '/dev/stderr' || ctx.globals.logFormat !== 'text') return undefined;
  try {
    return fs.openSync(f, 'a');
  } catch {
    return undefined;
  }
}

export function createOptionsCheck(ctx: CliContext, p: ParsedArgs): void {
  if (stringFlag(p, 'console-socket') !== undefined) {
    throw new CliError(
      'CLI_UNSUPPORTED',
      '--console-socket: terminals are not supported yet (set process.terminal to false)',
    );
  }
  const preserve = stringFlag(p, 'preserve-fds');
  if (preserve !== undefined && preserve !== '0') {
    throw new CliError('CLI_UNSUPPORTED', '--preserve-fds: passing extra fds is not supported yet');
  }
  for (const f of ['no-pivot', 'no-new-keyring']) {
    if (p.flags.has(f)) ctx.log.debug(`--${f}: ignored (the sandbox always has its own root)`);
  }
}

/** The create step of `create` and `run`: bundle → a created container. */
export async function createFromArgs(
  ctx: CliContext,
  p: ParsedArgs,
  command: string,
): Promise<CreatedContainer> {
  const id = checkId(exactlyOne(p, command));
  createOptionsCheck(ctx, p);
  const bundle = loadBundle(stringFlag(p, 'bundle') ?? process.cwd());
  ctx.log.debug(`${command} "${id}": bundle "${bundle.dir}", rootfs "${bundle.rootfs}"`);
  const params: CreateParams = {
    id,
    bundleDir: bundle.dir,
    rootfs: bundle.rootfs,
    spec: bundle.spec,
    logFormat: ctx.globals.logFormat,
    debug: ctx.globals.debug,
    ...(ctx.globals.platform !== undefined ? { platform: ctx.globals.platform } : {}),
    onNote: (msg) => ctx.log.debug(`${command} "${id}": ${msg}`),
  };
  const pidFile = stringFlag(p, 'pid-file');
  if (pidFile !== undefined) params.pidFile = pidFile;
  if (ctx.globals.log !== undefined) params.logPath = ctx.globals.log;
  const goferLog = openGoferLog(ctx);
  if (goferLog !== undefined) params.goferStderr = goferLog;
  try {
    return await createContainer(ctx.store, params);
  } finally {
    if (goferLog !== undefined) fs.closeSync(goferLog);
  }
}

export async function cmdCreate(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, CREATE_FLAGS);
  const created = await createFromArgs(ctx, p, 'create');
  // The sandbox lives on without us: drop our handles so that this process can exit.
  created.launched.detach();
  ctx.log.debug(`created "${created.record.id}", pid ${created.record.pid}`);
  return 0;
}
