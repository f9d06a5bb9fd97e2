// `moat spec [--bundle dir]` (runc spec): writes a default config.json into the bundle
// directory, refusing to overwrite one that exists.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultSpec } from '../oci/spec_default.js';
import { parseArgs, stringFlag } from './args.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

export function cmdSpec(_ctx: CliContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, [{ name: 'bundle', short: 'b', kind: 'string' }]);
  if (p.positionals.length > 0) throw new CliError('CLI_USAGE', 'spec: takes no arguments');
  const file = path.join(path.resolve(stringFlag(p, 'bundle') ?? '.'), 'config.json');
  try {
    fs.writeFileSync(file, `${JSON.stringify(defaultSpec(), null, '\t')}\n`, { flag: 'wx' });
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
    const why = code === 'EEXIST' ? 'already exists (remove it first)' : String(e);
    throw new CliError('CLI_IO', `write "${file}": ${why}`, { cause: e });
  }
  return Promise.resolve(0);
}
