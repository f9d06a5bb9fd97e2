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

/**
 * Runs `moat do -- argv` with its stdout read by a reader that waits `pauseMs` before reading
 * anything (a slow pipe consumer: a pager, a log shipper); returns what arrived.
 */
function runSlowReader(
  argv: string[],
  pauseMs: number,
): Promise<{ bytes: number; status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MOAT_BIN, 'do', '--', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let bytes = 0;
    let stderr = '';
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      child.stdout.resume();
    }, pauseMs);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ bytes, status, stderr }));
  });
}

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

  it('output to a slow reader all arrives: the application’s stdio is blocking, as natively', async (t) => {
    const why = moatUnavailable();
    if (why !== null) return t.skip(`moat cannot run: ${why}`);
    // Several times a pipe's capacity, with the reader away for a second first: the writer
    // must wait, not fail with EAGAIN (Node sets O_NONBLOCK on the pipe it shares with us).
    const file = '/usr/lib/x86_64-linux-gnu/libc.so.6';
    const size = fs.statSync(file).size;
    const r = await runSlowReader(['/bin/cat', file], 1000);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.bytes, size);
  });
});
