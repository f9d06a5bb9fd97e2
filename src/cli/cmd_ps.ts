// `moat ps [--format table|json] <id>` (runc ps): the container's processes as the Sentry
// sees them (virtual pids inside the sandbox), from the control socket's "ps" request.

import { psContainer } from '../sandbox/container.js';
import { exactlyOne, parseArgs, stringFlag } from './args.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

export async function cmdPs(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, [{ name: 'format', short: 'f', kind: 'string' }]);
  const id = exactlyOne(p, 'ps');
  const format = stringFlag(p, 'format') ?? 'table';
  if (format !== 'table' && format !== 'json') {
    throw new CliError('CLI_USAGE', `ps: invalid format "${format}" (table or json)`);
  }
  const pids = await psContainer(ctx.store, id);
  if (format === 'json') ctx.out(`${JSON.stringify(pids)}\n`);
  else ctx.out(`PID\n${pids.map((n) => `${n}\n`).join('')}`);
  return 0;
}
