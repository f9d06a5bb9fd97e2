// Signal names and numbers for `moat kill` (x86-64 Linux numbering, signal(7)): accepts
// "KILL", "SIGKILL", "kill" and "9", as runc does, and real-time signals up to 64 by number
// or as RTMIN+n / RTMAX-n. Pure; errors are CliError CLI_USAGE.

import { CliError } from './errors.js';

export const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

const SIGRTMIN = 34;
const SIGRTMAX = 64;

export function parseSignal(raw: string): number {
  const bad = (): CliError => new CliError('CLI_USAGE', `invalid signal "${raw}"`);
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n < 1 || n > SIGRTMAX) throw bad();
    return n;
  }
  let name = raw.toUpperCase();
  if (name.startsWith('SIG')) name = name.slice(3);
  const known = SIGNALS[name];
  if (known !== undefined) return known;
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt !== null) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const off = rt[3] === undefined ? 0 : Number(rt[3]);
    const n = rt[2] === '-' ? base - off : base + off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw bad();
}

/** The name of a signal number (for messages), e.g. 9 → "SIGKILL". */
export function signalName(n: number): string {
  for (const [k, v] of Object.entries(SIGNALS)) if (v === n) return `SIG${k}`;
  return `signal ${n}`;
}
