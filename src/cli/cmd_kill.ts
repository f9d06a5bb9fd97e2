// `moat kill [--all] <id> [signal]` (runc kill): sends a signal (default SIGTERM) to the
// container's init process, or to all its processes, through the Sentry's control socket.

import { killContainer } from '../sandbox/container.js';
import { boolFlag, parseArgs } from './args.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';
import { parseSignal } from './signals.js';

export async function cmdKill(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, [{ name: 'all', short: 'a', kind: 'bool' }]);
  const [id, sig, ...extra] = p.positionals;
  if (id === undefined || extra.length > 0) {
    throw new CliError('CLI_USAGE', 'kill: expected a container id and an optional signal');
  }
  const signal = parseSignal(sig ?? 'SIGTERM');
  await killContainer(ctx.store, id, signal, boolFlag(p, 'all'));
  return 0;
}
