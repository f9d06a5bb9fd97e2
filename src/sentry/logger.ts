// The Sentry's log: text or JSON lines to the --log file (opened before confinement) and,
// with --debug, to stderr of the Sentry. It must never write to the container's stdout.

import * as fs from 'node:fs';
import type { Logger } from './kernel/kernel.js';

export function makeLogger(
  logFd: number | undefined,
  format: 'text' | 'json',
  debug: boolean,
  id: string,
): Logger {
  const write = (level: string, msg: string): void => {
    if (level === 'debug' && !debug) return;
    const time = new Date().toISOString();
    const line =
      format === 'json'
        ? `${JSON.stringify({ level, msg, time, component: 'sentry', id })}\n`
        : `time="${time}" level=${level} component=sentry id=${id} msg=${JSON.stringify(msg)}\n`;
    if (logFd !== undefined) {
      try {
        fs.writeSync(logFd, line);
      } catch {
        /* a full or closed log must not stop the sandbox */
      }
    }
  };
  return {
    info: (m) => write('info', m),
    warn: (m) => write('warning', m),
    debug: (m) => write('debug', m),
  };
}
