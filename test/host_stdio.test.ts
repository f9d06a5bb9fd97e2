// The container's stdio is a host pipe that the Sentry must never block on: while one process
// waits to read stdin, the others go on (timers fire, output flows), and the reader wakes as
// soon as the caller writes. The caller here is this test, as podman's or containerd's shim
// would be: it reads the output as it comes and writes stdin only once the background
// process has shown it runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MOAT_BIN, moatUnavailable } from '../testlib/runners.js';

const SCRIPT =
  '(i=0; while [ $i -lt 5 ]; do echo tick; sleep 0.05; i=$((i+1)); done; echo ticked) & ' +
  'read line; echo "got $line"; wait';

function runWithStdin(): Promise<{ out: string; status: number | null; ticksFirst: boolean }> {
  const tmp = fs.mkdtempSync(path.join('/tmp', 'moat-stdio-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MOAT_BIN, 'do', '--', '/bin/sh', '-c', SCRIPT], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    let wrote = false;
    let ticksFirst = false;
    const timer = setTimeout(() => {
      // The ticker never got to run while the shell waited on stdin: unblock it to end.
      if (!wrote) {
        wrote = true;
        child.stdin.end('late\n');
      }
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!wrote && out.includes('ticked')) {
        ticksFirst = true;
        wrote = true;
        child.stdin.end('hello\n');
      }
    });
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      fs.rmSync(tmp, { recursive: true, force: true });
      resolve({ out, status, ticksFirst });
    });
  });
}

describe('host stdio', () => {
  it('a read of stdin parks one process, not the sandbox, and wakes when the caller writes', async (t) => {
    const why = moatUnavailable();
    if (why !== null) return t.skip(`moat cannot run: ${why}`);
    const r = await runWithStdin();
    assert.equal(r.status, 0, r.out);
    assert.ok(r.ticksFirst, `the background process did not run while stdin was empty:\n${r.out}`);
    assert.equal(r.out, 'tick\ntick\ntick\ntick\ntick\nticked\ngot hello\n');
  });
});
