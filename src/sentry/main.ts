// The Sentry process's entry point: reads the BootSpec the launcher wrote and boots the
// sandbox. It must never be started directly on the host: the launcher starts it inside fresh
// namespaces (see src/sandbox/boot_spec.ts).

import * as fs from 'node:fs';
import type { BootSpec } from '../sandbox/boot_spec.js';
import { boot } from './boot.js';

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write('moat sentry: usage: main.js <boot.json>\n');
  process.exit(125);
}
let spec: BootSpec;
try {
  spec = JSON.parse(fs.readFileSync(path, 'utf8')) as BootSpec;
} catch (e) {
  process.stderr.write(
    `moat sentry: read boot spec ${path}: ${e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exit(125);
}
const code = await boot(spec);
process.exit(code);
