// The stdin latency benchmark: a byte written to a container's stdin (a host pipe, as an
// engine's shim holds it) and echoed back on its stdout by bench/echo_bench.c, timed from the
// write to the echo's arrival — the path from the caller into a process of the sandbox and
// back. Runs under runc, runsc and moat with the same bundle; prints ns per round trip.
//
// It must never leave a container behind: a run that fails or times out is deleted by id.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleRuntimeCommand, uniqueId } from '../testlib/runners.js';

/** The median round trip in ns over `rounds` bytes, or why it could not be measured. */
export async function stdinLatency(
  rt: 'runc' | 'runsc' | 'moat' | 'moat-systrap',
  bundleDir: string,
  rounds: number,
): Promise<{ ok: true; ns: number } | { ok: false; reason: string }> {
  const root = fs.mkdtempSync(path.join('/tmp', `moat-bench-${rt}-`));
  const id = uniqueId(`bench-${rt}`);
  const [file, globals] = bundleRuntimeCommand(rt, root);
  const child = spawn(file, [...globals, 'run', '--bundle', bundleDir, id], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const waiters: Array<() => void> = [];
  let received = 0;
  child.stdout.on('data', (d: Buffer) => {
    received += d.length;
    while (waiters.length > 0 && received > 0) {
      received--;
      waiters.shift()?.();
    }
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const echo = (): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      child.stdin.write('x');
    });
  try {
    // The first echo waits for the container to start.
    if (!(await echo())) return { ok: false, reason: `no echo: ${stderr.trim()}` };
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = process.hrtime.bigint();
      if (!(await echo())) return { ok: false, reason: `echo ${i} timed out` };
      times.push(Number(process.hrtime.bigint() - t0));
    }
    child.stdin.end();
    const status = await closed;
    if (status !== 0)
      return { ok: false, reason: `exit status ${String(status)}: ${stderr.trim()}` };
    times.sort((a, b) => a - b);
    return { ok: true, ns: times[Math.floor(times.length / 2)] ?? 0 };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    spawnSync(file, [...globals, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
    fs.rmSync(root, { recursive: true, force: true });
  }
}
