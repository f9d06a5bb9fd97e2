// What every command receives: the global options (state root, logging) and the way to
// write its output. Commands print only through `out`; diagnostics go through `log`.

import { StateStore } from '../oci/state_store.js';
import type { LogFormat, Logger } from './log.js';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
  /** The Sentry's platform (--platform): how application code is run and trapped. */
  platform?: 'ptrace' | 'systrap';
}

export interface CliContext {
  globals: GlobalOptions;
  log: Logger;
  store: StateStore;
  out: (text: string) => void;
}

export const DEFAULT_ROOT = '/run/moat';

export function makeContext(globals: GlobalOptions, log: Logger): CliContext {
  return {
    globals,
    log,
    store: new StateStore(globals.root),
    out: (text) => process.stdout.write(text),
  };
}
