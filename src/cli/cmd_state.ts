// `moat state <id>` (runc state): prints the container's OCI state as indented JSON
// (runtime-spec runtime.md "State", plus runc's rootfs, created and owner).

import { toOciState } from '../oci/state_types.js';
import { readContainer } from '../sandbox/container.js';
import { exactlyOne, parseArgs } from './args.js';
import type { CliContext } from './context.js';

export async function cmdState(ctx: CliContext, argv: string[]): Promise<number> {
  const id = exactlyOne(parseArgs(argv, []), 'state');
  const { record, status } = await readContainer(ctx.store, id);
  ctx.out(`${JSON.stringify(toOciState(record, status), null, 2)}\n`);
  return 0;
}
