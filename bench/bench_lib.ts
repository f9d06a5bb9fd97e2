// Helpers of the benchmark runner (bench/run.ts): compiling the C benchmark and parsing its
// "op ns_per_op" lines. Kept apart from run.ts, which runs on import, so that the parser
// can be unit-tested. It must never throw on a runtime's output: a bad run is a result.

import { spawnSync } from 'node:child_process';

export type BenchResult =
  { ok: true; nsPerOp: Map<string, number> } | { ok: false; reason: string };

/** gcc -O2 -static; throws with gcc's output when it fails. */
export function compileBench(source: string, binary: string): void {
  const args = ['-O2', '-static', '-Wall', '-Wextra', '-o', binary, source];
  const r = spawnSync('gcc', args, { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) {
    throw new Error(
      `gcc ${args.join(' ')}: ${r.error?.message ?? `${r.stderr}${r.stdout}`.trim()}`,
    );
  }
}

/** Parses the benchmark's stdout; every op in `expected` must appear once with a number. */
export function parseBenchOutput(stdout: string, expected: readonly string[]): BenchResult {
  const nsPerOp = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = /^([a-z0-9_]+) ([0-9]+(?:\.[0-9]+)?)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) nsPerOp.set(m[1], Number(m[2]));
  }
  const missing = expected.filter((op) => !nsPerOp.has(op));
  if (missing.length > 0) {
    const got = stdout.trim() === '' ? 'no output' : JSON.stringify(stdout.trim().slice(0, 200));
    return { ok: false, reason: `no result for ${missing.join(', ')} (${got})` };
  }
  return { ok: true, nsPerOp };
}
