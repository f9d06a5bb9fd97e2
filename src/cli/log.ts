// The CLI's logger: errors go to stderr as `moat: <message>` and, with --log, to that file in
// the chosen format (text: logfmt like runc's logrus; json: one object a line). Debug lines
// appear only with --debug, in the log file, or on stderr when there is none. The only
// module of the CLI that writes diagnostics; a failing log file never hides the error.

import * as fs from 'node:fs';

export type LogFormat = 'text' | 'json';
type Level = 'debug' | 'info' | 'warning' | 'error';

export interface LoggerOptions {
  file?: string;
  format: LogFormat;
  debug: boolean;
  /** Where stderr lines go (tests replace it). */
  stderr?: (line: string) => void;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

export function formatLine(format: LogFormat, level: Level, msg: string, time: Date): string {
  const t = time.toISOString();
  if (format === 'json') return JSON.stringify({ level, msg, time: t });
  return `time=${quote(t)} level=${level} msg=${quote(msg)}`;
}

export class Logger {
  private readonly opts: LoggerOptions;
  private readonly toStderr: (line: string) => void;
  constructor(opts: LoggerOptions) {
    this.opts = opts;
    this.toStderr = opts.stderr ?? ((line) => process.stderr.write(`${line}\n`));
  }

  get debugEnabled(): boolean {
    return this.opts.debug;
  }

  private fileIsStderr(): boolean {
    const f = this.opts.file;
    return f === undefined || f === '/dev/stderr' || f === '/proc/self/fd/2';
  }

  private toFile(level: Level, msg: string): void {
    const f = this.opts.file;
    if (f === undefined || this.fileIsStderr()) return;
    try {
      fs.appendFileSync(f, `${formatLine(this.opts.format, level, msg, new Date())}\n`);
    } catch (e) {
      this.toStderr(`moat: write log "${f}": ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  error(msg: string): void {
    this.toStderr(`moat: ${msg}`);
    this.toFile('error', msg);
  }

  warn(msg: string): void {
    this.toStderr(`moat: warning: ${msg}`);
    this.toFile('warning', msg);
  }

  debug(msg: string): void {
    if (!this.opts.debug) return;
    if (this.fileIsStderr()) {
      this.toStderr(formatLine(this.opts.format, 'debug', msg, new Date()));
      return;
    }
    this.toFile('debug', msg);
  }
}
