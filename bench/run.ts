// The benchmarks, side by side: builds bench/syscall_bench.c, bench/mem_bench.c and
// bench/echo_bench.c (static), puts them and a 1 MiB data file into one busybox bundle, runs
// each benchmark in that bundle under runc (native code in a container), runsc (gVisor, ptrace
// platform) and moat on each of its platforms (ptrace: "moat", systrap: "moat-systrap") in one
// sitting, one after the other, and prints a table per benchmark of ns per operation with
// moat's ratios to the other two.
//
// It must never fail because a runtime cannot run (moat while the Sentry is being built,
// runsc on a machine without it): that runtime's column says "failed" and a line under the
// table gives the reason. It exits non-zero only when a benchmark cannot be built. It
// makes no claims: numbers are printed, never compared with thresholds.
//
// The stdio benchmark is driven from here: the runner writes the container's stdin and times
// the echo (bench/stdio_latency.ts).
//
// Usage: node dist/bench/run.js [--runtimes runc,runsc,moat,moat-systrap]
//                               [--benches syscall,memory,stdio]
//                               [--min-ms 300] [--json]

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import {
  REPO_ROOT,
  describeResult,
  moatUnavailable,
  runBundleWith,
  runtimeUnavailable,
  setBundleArgs,
} from '../testlib/runners.js';
import { compileBench, parseBenchOutput, type BenchResult } from './bench_lib.js';
import { stdinLatency } from './stdio_latency.js';

type Runtime = 'runc' | 'runsc' | 'moat' | 'moat-systrap';
const ALL_RUNTIMES: readonly Runtime[] = ['runc', 'runsc', 'moat', 'moat-systrap'];

/** One C benchmark: its source, where it goes in the bundle, and the ops it prints. */
interface Bench {
  name: 'syscall' | 'memory' | 'stdio';
  /** 'stdin': the runner itself drives the program's stdin and times the echo. */
  kind?: 'stdin';
  source: string;
  inBundle: string;
  ops: readonly string[];
  /** The program's arguments after its path, given --min-ms. */
  args: (minMs: number) => string[];
  /** Lines printed under its table. */
  notes: readonly string[];
}

const BENCHES: readonly Bench[] = [
  {
    name: 'syscall',
    source: 'syscall_bench.c',
    inBundle: '/bench/syscall_bench',
    ops: [
      'getppid',
      'stat',
      'open_close',
      'open_read_close',
      'read64k',
      'fork_wait',
      'fork_exec_wait',
      'getppid_parked1000',
      'clock_gettime',
      'pipe_pingpong',
      'tcp_pingpong',
      'tcp_stream64k',
      'compute_1thread',
      'compute_2threads',
    ],
    args: (minMs) => ['/bench/data.bin', '/etc/hostname', String(minMs)],
    notes: [],
  },
  {
    name: 'memory',
    source: 'mem_bench.c',
    inBundle: '/bench/mem_bench',
    ops: ['fork_heap200', 'sbrk4000', 'mmap_touch_munmap_1m', 'fault_1g', 'shm_pingpong'],
    args: (minMs) => [String(minMs)],
    notes: [
      'fault_1g is ns per 4 KiB page of fresh memory: MB/s = 4096000 / ns;',
      'sbrk4000 is ns per round of 4000 sbrk(128 KiB) and one brk back.',
    ],
  },
  {
    name: 'stdio',
    kind: 'stdin',
    source: 'echo_bench.c',
    inBundle: '/bench/echo_bench',
    ops: ['stdin_echo'],
    args: () => [],
    notes: [
      'stdin_echo is the median round trip of a byte written to the container’s stdin pipe',
      'and echoed back on its stdout (bench/stdio_latency.ts), over 200 bytes.',
    ],
  },
];

const STDIN_ROUNDS = 200;

function unavailable(rt: Runtime): string | null {
  return rt === 'moat' || rt === 'moat-systrap' ? moatUnavailable() : runtimeUnavailable(rt);
}

async function runOne(
  rt: Runtime,
  bundle: string,
  bench: Bench,
  minMs: number,
): Promise<BenchResult> {
  const why = unavailable(rt);
  if (why !== null) return { ok: false, reason: why };
  setBundleArgs(bundle, [bench.inBundle, ...bench.args(minMs)]);
  if (bench.kind === 'stdin') {
    const r = await stdinLatency(rt, bundle, STDIN_ROUNDS);
    return r.ok ? { ok: true, nsPerOp: new Map([['stdin_echo', r.ns]]) } : r;
  }
  const r = runBundleWith(rt, bundle, { timeoutMs: 600_000 });
  if (r.status !== 0) return { ok: false, reason: describeResult(r) };
  return parseBenchOutput(r.stdout, bench.ops);
}

function fmtNs(r: BenchResult | undefined, v: number | undefined): string {
  if (r === undefined) return '-';
  if (!r.ok || v === undefined) return 'failed';
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function fmtRatio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '-';
  return `${(a / b).toFixed(1)}x`;
}

function table(bench: Bench, results: Map<Runtime, BenchResult>): string {
  const ns = (rt: Runtime, op: string): number | undefined => {
    const r = results.get(rt);
    return r?.ok === true ? r.nsPerOp.get(op) : undefined;
  };
  const header = [
    'op',
    'runc ns',
    'runsc ns',
    'moat ns',
    'moat/runc',
    'moat/runsc',
    'systrap ns',
    'systrap/runc',
    'systrap/runsc',
  ];
  const rows = bench.ops.map((op) => [
    op,
    fmtNs(results.get('runc'), ns('runc', op)),
    fmtNs(results.get('runsc'), ns('runsc', op)),
    fmtNs(results.get('moat'), ns('moat', op)),
    fmtRatio(ns('moat', op), ns('runc', op)),
    fmtRatio(ns('moat', op), ns('runsc', op)),
    fmtNs(results.get('moat-systrap'), ns('moat-systrap', op)),
    fmtRatio(ns('moat-systrap', op), ns('runc', op)),
    fmtRatio(ns('moat-systrap', op), ns('runsc', op)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  const out = [
    `${bench.name} (${bench.source})`,
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    ...bench.notes,
  ];
  for (const rt of ALL_RUNTIMES) {
    const r = results.get(rt);
    if (r === undefined) out.push(`${rt}: not run`);
    else if (!r.ok) out.push(`${rt}: failed (${r.reason})`);
  }
  return out.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runtimes: { type: 'string', default: ALL_RUNTIMES.join(',') },
      benches: { type: 'string', default: BENCHES.map((b) => b.name).join(',') },
      'min-ms': { type: 'string', default: '300' },
      json: { type: 'boolean', default: false },
    },
  });
  const wanted = values.runtimes
    .split(',')
    .filter((s): s is Runtime => (ALL_RUNTIMES as readonly string[]).includes(s));
  const benchNames = values.benches.split(',');
  const benches = BENCHES.filter((b) => benchNames.includes(b.name));
  if (benches.length === 0) {
    process.stderr.write(
      `bench: --benches names none of ${BENCHES.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const minMs = Number(values['min-ms']);
  if (!Number.isInteger(minMs) || minMs <= 0) {
    process.stderr.write(`bench: --min-ms must be a positive integer, not "${values['min-ms']}"\n`);
    return 2;
  }
  const work = tempDir('bench');
  try {
    const files: Array<[string, string]> = [];
    for (const b of benches) {
      const binary = path.join(work, path.basename(b.inBundle));
      compileBench(path.join(REPO_ROOT, 'bench', b.source), binary);
      files.push([binary, b.inBundle]);
    }
    const data = path.join(work, 'data.bin');
    fs.writeFileSync(data, randomBytes(1 << 20));
    files.push([data, '/bench/data.bin']);
    const bundle = path.join(work, 'bundle');
    fs.mkdirSync(bundle);
    makeBusyboxBundle(bundle, { args: ['true'], files });
    const results = new Map<Bench, Map<Runtime, BenchResult>>();
    for (const b of benches) results.set(b, new Map());
    for (const rt of wanted) {
      for (const b of benches) {
        process.stderr.write(`bench: running ${b.name} under ${rt}...\n`);
        results.get(b)?.set(rt, await runOne(rt, bundle, b, minMs));
      }
    }
    if (values.json) {
      const obj = Object.fromEntries(
        [...results].map(([b, byRuntime]) => [
          b.name,
          Object.fromEntries(
            [...byRuntime].map(([rt, r]) => [
              rt,
              r.ok ? Object.fromEntries(r.nsPerOp) : { failed: r.reason },
            ]),
          ),
        ]),
      );
      process.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
    } else {
      process.stdout.write(
        `${[...results].map(([b, byRuntime]) => table(b, byRuntime)).join('\n\n')}\n`,
      );
    }
    return 0;
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void main().then((code) => {
  process.exitCode = code;
});
