// The moat command line: global flags (runc's), then one command, each in its own
// cmd_*.ts. The one place that turns errors into `moat: <message>` on stderr (and --log) and
// into exit statuses, through exit_codes.ts. Returns the status; never calls process.exit.

import * as path from 'node:path';
import { boolFlag, parseArgs, stringFlag } from './args.js';
import type { FlagSpec } from './args.js';
import { type CliContext, DEFAULT_ROOT, type GlobalOptions, makeContext } from './context.js';
import { CliError } from './errors.js';
import { exitStatusFor } from './exit_codes.js';
import { Logger } from './log.js';

export const VERSION = '0.1.0';
const OCI_SPEC_VERSION = '1.2.0';

type Command = (ctx: CliContext, argv: string[]) => Promise<number>;

/**
 * Each command's module is loaded only when it runs: `state` and `list`, which supervisors
 * call often, then never load the FFI that starting a sandbox needs.
 */
const COMMANDS: Readonly<Record<string, { load: () => Promise<Command>; help: string }>> = {
  create: {
    load: async () => (await import('./cmd_create.js')).cmdCreate,
    help: 'create a container',
  },
  start: {
    load: async () => (await import('./cmd_start.js')).cmdStart,
    help: 'run the user process of a created container',
  },
  run: {
    load: async () => (await import('./cmd_run.js')).cmdRun,
    help: 'create and run a container',
  },
  state: {
    load: async () => (await import('./cmd_state.js')).cmdState,
    help: 'output the state of a container',
  },
  kill: {
    load: async () => (await import('./cmd_kill.js')).cmdKill,
    help: 'send a signal (default SIGTERM) to the init process',
  },
  delete: {
    load: async () => (await import('./cmd_delete.js')).cmdDelete,
    help: 'delete a container and everything it holds',
  },
  list: {
    load: async () => (await import('./cmd_list.js')).cmdList,
    help: 'list the containers under --root',
  },
  ps: {
    load: async () => (await import('./cmd_ps.js')).cmdPs,
    help: 'list the processes of a container (sandbox pids)',
  },
  spec: {
    load: async () => (await import('./cmd_spec.js')).cmdSpec,
    help: 'write a default config.json',
  },
  do: {
    load: async () => (await import('./cmd_do.js')).cmdDo,
    help: 'run a host command in a sandbox: moat do -- CMD [ARGS...]',
  },
};

/** runc commands that moat does not implement yet: a clear error, not "unknown command". */
const NOT_YET = [
  'exec',
  'events',
  'pause',
  'resume',
  'checkpoint',
  'restore',
  'update',
  'features',
];

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'root', kind: 'string' },
  { name: 'log', kind: 'string' },
  { name: 'log-format', kind: 'string' },
  { name: 'debug', kind: 'bool' },
  { name: 'platform', kind: 'string' },
  { name: 'systemd-cgroup', kind: 'bool' },
  { name: 'rootless', kind: 'string' },
  { name: 'criu', kind: 'string' },
  { name: 'help', short: 'h', kind: 'bool' },
  { name: 'version', short: 'v', kind: 'bool' },
];

export function usage(): string {
  const cmds = Object.entries(COMMANDS)
    .map(([name, c]) => `   ${name.padEnd(8)}${c.help}\n`)
    .join('');
  return (
    'moat - a secure OCI container runtime (user-space kernel, runc-compatible command line)\n\n' +
    'USAGE:\n   moat [global options] command [command options] [arguments...]\n\n' +
    `COMMANDS:\n${cmds}\n` +
    'GLOBAL OPTIONS:\n' +
    '   --root value        state directory (default: "/run/moat")\n' +
    '   --log value         log file (default: stderr)\n' +
    '   --log-format value  text (default) or json\n' +
    '   --debug             enable debug logging\n' +
    '   --platform value    ptrace (default) or systrap: how the Sentry traps the application\n' +
    '   --systemd-cgroup    accepted for compatibility, ignored\n'
  );
}

function globalsFrom(argv: string[]): { globals: GlobalOptions; rest: string[]; help: boolean } {
  const p = parseArgs(argv, GLOBAL_FLAGS, { stopAtPositional: true });
  const format = stringFlag(p, 'log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new CliError('CLI_USAGE', `--log-format: invalid value "${format}" (text or json)`);
  }
  const globals: GlobalOptions = {
    root: stringFlag(p, 'root') ?? DEFAULT_ROOT,
    logFormat: format,
    debug: boolFlag(p, 'debug'),
  };
  const platform = stringFlag(p, 'platform');
  if (platform !== undefined) {
    if (platform !== 'ptrace' && platform !== 'systrap') {
      throw new CliError(
        'CLI_USAGE',
        `--platform: invalid value "${platform}" (ptrace or systrap)`,
      );
    }
    globals.platform = platform;
  }
  const log = stringFlag(p, 'log');
  // Absolute, because the sandbox processes that also write to it start in "/".
  if (log !== undefined && log !== '') globals.log = path.resolve(log);
  if (boolFlag(p, 'version')) {
    return { globals, rest: ['--version'], help: false };
  }
  return { globals, rest: p.positionals, help: boolFlag(p, 'help') };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function main(argv: string[]): Promise<number> {
  let log = new Logger({ format: 'text', debug: false });
  try {
    const { globals, rest, help } = globalsFrom(argv);
    const logOpts: ConstructorParameters<typeof Logger>[0] = {
      format: globals.logFormat,
      debug: globals.debug,
    };
    if (globals.log !== undefined) logOpts.file = globals.log;
    log = new Logger(logOpts);
    const ctx = makeContext(globals, log);
    if (argv.includes('--systemd-cgroup') || argv.some((a) => a.startsWith('--systemd-cgroup='))) {
      log.debug('--systemd-cgroup: ignored (moat does not manage cgroups yet)');
    }
    const [name, ...args] = rest;
    if (name === '--version') {
      ctx.out(`moat version ${VERSION}\nspec: ${OCI_SPEC_VERSION}\n`);
      return 0;
    }
    if (help || name === undefined || name === 'help') {
      ctx.out(usage());
      return 0;
    }
    const cmd = COMMANDS[name];
    if (cmd === undefined && NOT_YET.includes(name)) {
      throw new CliError('CLI_UNSUPPORTED', `${name}: not supported by moat yet`);
    }
    if (cmd === undefined) {
      throw new CliError('CLI_USAGE', `unknown command "${name}" (see moat --help)`);
    }
    // `moat CMD --help` (before any `--`): the command list and global options.
    const end = args.indexOf('--');
    const own = end < 0 ? args : args.slice(0, end);
    if (own.includes('--help') || own.includes('-h')) {
      ctx.out(usage());
      return 0;
    }
    log.debug(`command: ${name} ${args.join(' ')}`);
    const run = await cmd.load();
    return await run(ctx, args);
  } catch (e) {
    log.error(messageOf(e));
    if (!(e instanceof Error && 'code' in e) && e instanceof Error && e.stack !== undefined) {
      log.debug(e.stack);
    }
    return exitStatusFor(e);
  }
}
