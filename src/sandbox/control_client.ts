// The CLI side of the Sentry's control protocol (boot_spec.ts): one connection to the
// control socket, one newline-delimited JSON request, one response line. Never retries a
// request that may have been delivered (a second start or kill is not harmless).

import * as net from 'node:net';
import { SandboxError } from './errors.js';

export type ControlRequest =
  { op: 'start' } | { op: 'kill'; signal: number; all: boolean } | { op: 'ps' };

export interface ControlResponse {
  ok: boolean;
  error?: string;
  pids?: number[];
}

/** A control request that failed; `unanswered` when it was sent but the peer hung up. */
export class ControlError extends SandboxError {
  readonly unanswered: boolean;
  constructor(message: string, unanswered: boolean, options?: { cause?: unknown }) {
    super('SANDBOX_CONTROL_FAILED', message, options);
    this.unanswered = unanswered;
  }
}

function fail(req: ControlRequest, why: string, cause?: unknown, unanswered = false): ControlError {
  return new ControlError(`control request "${req.op}": ${why}`, unanswered, { cause });
}

function parseResponse(req: ControlRequest, line: string): ControlResponse {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw fail(req, `bad response "${line.slice(0, 200)}"`, e);
  }
  if (typeof v !== 'object' || v === null || typeof (v as { ok?: unknown }).ok !== 'boolean') {
    throw fail(req, `bad response "${line.slice(0, 200)}"`);
  }
  const r = v as { ok: boolean; error?: unknown; pids?: unknown };
  const out: ControlResponse = { ok: r.ok };
  if (typeof r.error === 'string') out.error = r.error;
  if (Array.isArray(r.pids)) out.pids = r.pids.filter((x): x is number => typeof x === 'number');
  return out;
}

/** Sends one request and returns the Sentry's response; an {ok:false} response is an error. */
export function controlRequest(
  socketPath: string,
  req: ControlRequest,
  timeoutMs = 10_000,
): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path: socketPath });
    let buf = '';
    let settled = false;
    let sent = false;
    const finish = (err: Error | undefined, res?: ControlResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err !== undefined) reject(err);
      else if (res !== undefined) resolve(res);
    };
    const timer = setTimeout(() => finish(fail(req, 'no response (timed out)')), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      sent = true;
      sock.write(`${JSON.stringify(req)}\n`);
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        const res = parseResponse(req, buf.slice(0, nl));
        if (!res.ok) finish(fail(req, res.error ?? 'refused'));
        else finish(undefined, res);
      } catch (e) {
        finish(e instanceof Error ? e : fail(req, String(e)));
      }
    });
    sock.on('error', (e) => finish(fail(req, e.message, e, sent && buf === '')));
    sock.on('close', () =>
      finish(fail(req, 'connection closed without a response', undefined, sent)),
    );
  });
}
