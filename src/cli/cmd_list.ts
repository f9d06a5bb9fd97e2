// `moat list [--format table|json] [--quiet]` (runc list): the containers under --root, as
// runc's table (ID PID STATUS BUNDLE CREATED OWNER) or a JSON array of their states.

import { toOciState } from '../oci/state_types.js';
import { listContainers } from '../sandbox/container.js';
import { boolFlag, parseArgs, stringFlag } from './args.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

/** Left-aligned columns like Go's tabwriter(minwidth 12, padding 3) as runc uses it. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 12, cell.length + 3);
    });
  }
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}

export function cmdList(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, [
    { name: 'format', short: 'f', kind: 'string' },
    { name: 'quiet', short: 'q', kind: 'bool' },
  ]);
  if (p.positionals.length > 0) throw new CliError('CLI_USAGE', 'list: takes no arguments');
  const format = stringFlag(p, 'format') ?? 'table';
  if (format !== 'table' && format !== 'json') {
    throw new CliError('CLI_USAGE', `list: invalid format "${format}" (table or json)`);
  }
  const containers = listContainers(ctx.store, (id, e) =>
    ctx.log.warn(`list: skipping container "${id}": ${e.message}`),
  );
  const states = containers.map((c) => toOciState(c.record, c.status));
  if (boolFlag(p, 'quiet')) {
    ctx.out(states.map((s) => `${s.id}\n`).join(''));
  } else if (format === 'json') {
    ctx.out(`${JSON.stringify(states)}\n`);
  } else {
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
    for (const s of states) {
      rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
    }
    ctx.out(formatTable(rows));
  }
  return Promise.resolve(0);
}
