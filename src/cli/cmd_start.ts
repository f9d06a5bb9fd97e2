// `moat start <id>` (runc start): tells a created container's Sentry to run the init
// process. Prints nothing on success.

import { startContainer } from '../sandbox/container.js';
import { exactlyOne, parseArgs } from './args.js';
import type { CliContext } from './context.js';

export async function cmdStart(ctx: CliContext, argv: string[]): Promise<number> {
  const id = exactlyOne(parseArgs(argv, []), 'start');
  await startContainer(ctx.store, id);
  return 0;
}
