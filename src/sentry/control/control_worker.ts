// The Sentry's control plane: a worker thread that serves the control socket (newline-
// delimited JSON, see src/sandbox/boot_spec.ts) for the CLI's start, kill and ps. It never
// touches the kernel's objects: it only writes the shared control state and wakes or kicks
// the main thread (Atomics.notify before start, and its eventfd when it sleeps polling host
// files; a SIGUSR1 to the running stub after). It also
// watches the launcher's lifeline when the sandbox is tied to the launcher's life, and the
// memory file's size against the application's memory limit (the OOM flag).

import * as fs from 'node:fs';
import * as net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { CTL, CTL_LANES, addPendingSignal, laneSlots, readPids } from './control_state.js';

interface WorkerInput {
  /** The listening control socket the launcher bound. */
  socketFd: number;
  shared: SharedArrayBuffer;
}

const input = workerData as WorkerInput;
const state = new Int32Array(input.shared);
const KICK = 'SIGUSR1';

/** The main thread's wake-up eventfd, for when it sleeps polling host files (-1: none yet). */
let wakeFd = -1;
const ONE = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);

/** Wakes the main thread from its idle sleep (Atomics.wait, or its poll over host files). */
function wakeMain(): void {
  Atomics.notify(state, CTL.sleep);
  if (wakeFd < 0) return;
  try {
    fs.writeSync(wakeFd, ONE);
  } catch {
    /* a full counter already wakes it */
  }
}

/** Queues a signal for init and wakes the main thread wherever it waits. */
function deliver(sig: number): void {
  addPendingSignal(state, sig);
  // Before start, in a sleep, or in the application.
  Atomics.notify(state, CTL.started);
  wakeMain();
  kick();
}

/** Interrupts the stub running on each lane, so that the main thread looks at the control state. */
function kick(): void {
  for (let i = 0; i < CTL_LANES; i++) kickLane(i);
}

function kickLane(i: number): void {
  const pid = Atomics.load(state, laneSlots(i).pid);
  if (pid > 0) {
    try {
      process.kill(pid, KICK);
    } catch {
      /* the stub is gone: the main thread sees it */
    }
  }
}

const SIGKILL = 9;

/**
 * A launcher that tied the sandbox to its own life (`moat do`) holds the other end of `fd`:
 * when that closes, init is killed, and with it the sandbox.
 */
function watchLifeline(fd: number): void {
  const s = new net.Socket({ fd, readable: true, writable: false });
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    s.destroy();
    if (Atomics.load(state, CTL.exited) === 0) deliver(SIGKILL);
  };
  s.on('data', () => undefined);
  s.on('end', end);
  s.on('close', end);
  s.on('error', end);
}

/** The memory file and the application's memory limit, once the main thread sends them. */
let memory: { fd: number; limit: number } | undefined;

/** Raises the OOM flag when the memory file holds more than the limit. */
function checkMemory(): void {
  if (memory === undefined || Atomics.load(state, CTL.oom) !== 0) return;
  let used: number;
  try {
    used = fs.fstatSync(memory.fd).blocks * 512;
  } catch {
    return;
  }
  if (used <= memory.limit) return;
  Atomics.store(state, CTL.oom, 1);
  wakeMain();
  kick();
}

parentPort?.on('message', (m: { kind?: unknown; fd?: unknown; limit?: unknown }) => {
  if (m.kind === 'lifeline' && typeof m.fd === 'number') watchLifeline(m.fd);
  if (m.kind === 'wakefd' && typeof m.fd === 'number') wakeFd = m.fd;
  if (m.kind === 'memory' && typeof m.fd === 'number' && typeof m.limit === 'number') {
    memory = { fd: m.fd, limit: m.limit };
  }
});

type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: string };

function handle(req: unknown): Reply {
  if (typeof req !== 'object' || req === null)
    return { ok: false, error: 'request is not an object' };
  const r = req as Record<string, unknown>;
  switch (r['op']) {
    case 'start': {
      if (Atomics.compareExchange(state, CTL.started, 0, 1) !== 0) {
        return { ok: false, error: 'container already started' };
      }
      Atomics.notify(state, CTL.started);
      return { ok: true };
    }
    case 'kill': {
      const sig = r['signal'];
      if (typeof sig !== 'number' || !Number.isInteger(sig) || sig < 1 || sig > 64) {
        return { ok: false, error: 'kill: signal must be an integer from 1 to 64' };
      }
      if (Atomics.load(state, CTL.exited) === 1)
        return { ok: false, error: 'container is not running' };
      deliver(sig);
      return { ok: true };
    }
    case 'ps': {
      const running = Atomics.load(state, CTL.exited) === 0;
      return { ok: true, pids: running ? readPids(state) : [] };
    }
    default:
      return { ok: false, error: `unknown op ${JSON.stringify(r['op'])}` };
  }
}

/**
 * Preemption: a task that computes without system calls would keep its lane's CPU from the
 * others for ever. When tasks are waiting to run and a lane's slice has lasted two ticks, the
 * stub running there is kicked; the run loop then yields to the next task.
 */
const TICK_MS = 10;
const lastSeq = new Array<number>(CTL_LANES).fill(-1);
setInterval(() => {
  checkMemory();
  const waiting = Atomics.load(state, CTL.runnable) > 0 && Atomics.load(state, CTL.exited) === 0;
  for (let i = 0; i < CTL_LANES; i++) {
    const seq = Atomics.load(state, laneSlots(i).seq);
    if (!waiting) {
      lastSeq[i] = -1;
      continue;
    }
    if (seq !== lastSeq[i]) {
      lastSeq[i] = seq;
      continue;
    }
    kickLane(i);
  }
}, TICK_MS);

const server = net.createServer((conn) => {
  let buf = '';
  conn.setEncoding('utf8');
  conn.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > 65536) {
      conn.destroy();
      return;
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let reply: Reply;
      try {
        reply = handle(JSON.parse(line) as unknown);
      } catch {
        reply = { ok: false, error: 'malformed request' };
      }
      conn.write(`${JSON.stringify(reply)}\n`);
    }
  });
  conn.on('error', () => conn.destroy());
});

server.on('error', (e: Error) => {
  parentPort?.postMessage({ kind: 'error', message: e.message });
});
server.listen({ fd: input.socketFd }, () => {
  parentPort?.postMessage({ kind: 'listening' });
});
