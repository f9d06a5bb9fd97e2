// Test probe: installs the Gofer's or the Sentry's seccomp filter on this Node process (after
// no_new_privs, on every thread) and prints, as JSON, what the real kernel let it do: read an
// fd it already held, open a file by absolute path, start a process, signal another process,
// make a socket, start a worker thread, run a timer. Run by test/security/seccomp.test.ts;
// lives outside test/ so that the test runner does not run it.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import { goferFilter } from '../src/gofer/seccomp_filter.js';
import {
  SECCOMP_FILTER_FLAG_TSYNC,
  installSeccompFilter,
  setNoNewPrivs,
} from '../src/host/confine.js';
import { sentryFilter } from '../src/sentry/seccomp_filter.js';

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

const held = fs.openSync('/proc/self/stat', 'r');
if (setNoNewPrivs() < 0) throw new Error('no_new_privs');
const filter = process.argv[2] === 'gofer' ? goferFilter() : sentryFilter();
const r = installSeccompFilter(filter, SECCOMP_FILTER_FLAG_TSYNC);
if (r < 0) throw new Error(`seccomp: errno ${-r}`);
const out: Record<string, string> = {};
out['readHeld'] = fs.readSync(held, Buffer.alloc(64)) > 0 ? 'ok' : 'empty';
try {
  fs.closeSync(fs.openSync('/etc/hostname', 'r'));
  out['openAbsolute'] = 'ok';
} catch (e) {
  out['openAbsolute'] = code(e);
}
const s = spawnSync('/bin/true');
out['spawn'] = s.error === undefined ? 'ok' : code(s.error);
try {
  process.kill(1, 0);
  out['signalOther'] = 'ok';
} catch (e) {
  out['signalOther'] = code(e);
}
out['socket'] = await new Promise<string>((resolve) => {
  const srv = net.createServer();
  srv.once('error', (e) => resolve(code(e)));
  srv.listen(0, '127.0.0.1', () => {
    srv.close();
    resolve('ok');
  });
});
out['thread'] = await new Promise<string>((resolve) => {
  const w = new Worker('process.exit(0)', { eval: true });
  w.once('error', (e) => resolve(code(e)));
  w.once('exit', (c) => resolve(c === 0 ? 'ok' : `exit ${c}`));
});
out['timer'] = await new Promise<string>((resolve) => setTimeout(() => resolve('ok'), 5));
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
