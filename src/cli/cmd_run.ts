// `moat run [flags] <id>` (runc run): create + start; in the foreground it waits for the
// container, deletes it and returns its exit status; with --detach it returns after start,
// leaving the sandbox running.

import { startContainer } from '../sandbox/container.js';
import { boolFlag, parseArgs } from './args.js';
import { CREATE_FLAGS, createFromArgs } from './cmd_create.js';
import type { CliContext } from './context.js';
import { runForeground } from './foreground.js';

const RUN_FLAGS = [
  ...CREATE_FLAGS,
  { name: 'detach', short: 'd', kind: 'bool' as const },
  { name: 'keep', kind: 'bool' as const },
];

export async function cmdRun(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, RUN_FLAGS);
  const created = await createFromArgs(ctx, p, 'run');
  if (!boolFlag(p, 'detach')) return runForeground(ctx, created, boolFlag(p, 'keep'));
  created.launched.detach();
  await startContainer(ctx.store, created.record.id);
  return 0;
}
