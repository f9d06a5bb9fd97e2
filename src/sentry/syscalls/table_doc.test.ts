import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSyscallDoc } from './table_doc.js';
import { buildSyscallTable } from './table.js';
import { SYSCALL_NAMES } from '../../abi/linux/syscall_names.js';

test('docs/syscalls.md is generated from the table and up to date', () => {
  const doc = fileURLToPath(new URL('../../../../docs/syscalls.md', import.meta.url));
  assert.equal(
    readFileSync(doc, 'utf8'),
    renderSyscallDoc(),
    'regenerate: node dist/src/sentry/syscalls/table_doc.js > docs/syscalls.md',
  );
});

test('every table entry carries the Linux name of its number', () => {
  for (const [nr, e] of buildSyscallTable())
    assert.equal(e.name, SYSCALL_NAMES.get(nr), `syscall ${nr}`);
});
