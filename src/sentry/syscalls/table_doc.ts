// Renders the syscall table as docs/syscalls.md, so that the document can never drift from
// the code: a unit test compares the committed file with this output, and
// `node dist/src/sentry/syscalls/table_doc.js > docs/syscalls.md` regenerates it.

import { SYSCALL_NAMES } from '../../abi/linux/syscall_names.js';
import { buildSyscallTable } from './table.js';

export function renderSyscallDoc(): string {
  const table = buildSyscallTable();
  const lines = [
    '# System calls the Sentry implements (x86-64)',
    '',
    'Generated from `src/sentry/syscalls/table.ts` by `src/sentry/syscalls/table_doc.ts`; do not edit.',
    'Every number not listed answers `ENOSYS` and is logged once per sandbox by name.',
    '',
    `Implemented: ${table.size} of ${SYSCALL_NAMES.size}.`,
    '',
    '| nr | name | support | notes |',
    '|---:|---|---|---|',
  ];
  for (const nr of [...table.keys()].sort((a, b) => a - b)) {
    const e = table.get(nr);
    if (e === undefined) continue;
    lines.push(`| ${nr} | ${e.name} | ${e.support} | ${(e.note ?? '').replace(/\|/g, '\\|')} |`);
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  process.stdout.write(renderSyscallDoc());
}
