// Where the launcher finds the programs it starts: the compiled Sentry and Gofer entry
// points in the repository's dist/ tree, located from this module's own URL, and the host's
// `unshare`. Never looks at the caller's PATH for anything but `unshare`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file is <repo>/dist/src/sandbox/paths.js. */
export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

export function sentryMain(repo: string): string {
  return path.join(repo, 'dist', 'src', 'sentry', 'main.js');
}

export function goferMain(repo: string): string {
  return path.join(repo, 'dist', 'src', 'gofer', 'main.js');
}

/** Absolute path of unshare(1): the usual locations first, then PATH. */
export function unsharePath(): string {
  const dirs = ['/usr/bin', '/bin', ...(process.env.PATH ?? '').split(':').filter(Boolean)];
  for (const d of dirs) {
    const p = path.join(d, 'unshare');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      continue;
    }
  }
  return 'unshare';
}

/** The environment the sandbox processes start with: nothing of the caller's. */
export const SANDBOX_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

/** Where the launcher keeps the sandbox waiter (waiter_image.ts), built on first use. */
export function waiterPath(repo: string): string {
  return path.join(repo, 'dist', 'moat-waiter');
}
