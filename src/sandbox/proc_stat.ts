// Identifies host processes by pid *and* start time (field 22 of /proc/<pid>/stat), so that a
// pid recycled by the host after our process died is never mistaken for ours and never
// signalled. Reads /proc only; signals only through signalRef(), after the identity check.

import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessRef } from '../oci/state_types.js';

export interface ProcStat {
  /** One-letter state: R, S, D, Z (zombie), X (dead), T, t, I... */
  state: string;
  ppid: number;
  startTime: string;
}

/** Parses the text of /proc/<pid>/stat; undefined if it is malformed. */
export function parseStat(text: string): ProcStat | undefined {
  // comm (field 2) may contain spaces and parentheses: the fields after it follow the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const state = fields[0];
  const ppid = fields[1];
  const start = fields[19];
  if (state === undefined || ppid === undefined || start === undefined) return undefined;
  if (!/^\d+$/.test(start) || !/^-?\d+$/.test(ppid)) return undefined;
  return { state, ppid: Number(ppid), startTime: start };
}

export function readStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A reference to a live process, taken now. */
export function refOf(pid: number): ProcessRef | undefined {
  const st = readStat(pid);
  return st === undefined ? undefined : { pid, startTime: st.startTime };
}

/** True if the process still exists, is the same process, and has not exited (zombie). */
export function isAlive(ref: ProcessRef): boolean {
  const st = readStat(ref.pid);
  if (st === undefined || st.startTime !== ref.startTime) return false;
  return st.state !== 'Z' && st.state !== 'X';
}

/** Sends a signal to the process if it is still the one we started; true if sent. */
export function signalRef(ref: ProcessRef, signal: NodeJS.Signals | number): boolean {
  if (!isAlive(ref)) return false;
  try {
    process.kill(ref.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits until none of the processes is alive; false on timeout. */
export async function waitGone(refs: ProcessRef[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (refs.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Pids of the direct children of a process (needs /proc/<pid>/task/<pid>/children). */
export function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => /^\d+$/.test(s))
      .map(Number);
  } catch {
    return [];
  }
}
