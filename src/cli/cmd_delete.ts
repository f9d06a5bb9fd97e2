// `moat delete [--force] <id>` (runc delete): removes a stopped or created container, or a
// running one with --force, leaving no process, socket or state file behind. As in runc,
// --force on a container that does not exist succeeds.

import { OciError } from '../oci/errors.js';
import { deleteContainer } from '../sandbox/container.js';
import { boolFlag, exactlyOne, parseArgs } from './args.js';
import type { CliContext } from './context.js';

export async function cmdDelete(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, [{ name: 'force', short: 'f', kind: 'bool' }]);
  const id = exactlyOne(p, 'delete');
  const force = boolFlag(p, 'force');
  try {
    await deleteContainer(ctx.store, id, force);
  } catch (e) {
    if (force && e instanceof OciError && e.code === 'CONTAINER_NOT_FOUND') return 0;
    throw e;
  }
  return 0;
}
