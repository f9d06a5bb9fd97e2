// Test helpers for the 9P suites: start our Gofer as a real child process (under
// `unshare --mount --propagation private`, as the launcher does) or Debian's diod on one end of
// a socketpair, and connect a P9Client on the other; build a served tree with an "outside"
// directory beside it for escape tests. Lives outside test/ so the runner does not run it.
// Every process started here is killed by pid in stop(); temp dirs are removed by the caller's
// cleanup().

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostFd } from '../src/host/fd.js';
import { socketpair } from '../src/host/socket.js';
import { P9Client } from '../src/p9/client.js';
import { goferCommand, releaseGofer, releaseGoferSync } from '../src/sandbox/gofer_stage.js';

export const GOFER_MAIN = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../src/gofer/main.js',
);
export const DIOD = '/usr/sbin/diod';
/** The repository root (this file is <repo>/dist/testlib/p9_gofer.js). */
const REPO_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export interface Peer {
  client: P9Client;
  child: ChildProcess;
  stderr: () => string;
  /** Closes the client, waits for the child (killed by pid after 5 s); its exit code. */
  stop(): Promise<number | null>;
}

export function waitExit(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

export interface RawPeer {
  sock: HostFd;
  child: ChildProcess;
  stderr: () => string;
}

/** Spawns `argv` with fd 3 = one end of a fresh socketpair; returns the other end. */
export function spawnOnSocket(argv: string[]): RawPeer {
  const pair = socketpair();
  if (typeof pair === 'number') throw new Error(`socketpair: errno ${-pair}`);
  const [mine, theirs] = pair;
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty argv');
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe', theirs.fd] });
  theirs.close();
  // Our Gofer waits for its user namespace's identity map, as the launcher writes it.
  if (args.includes('moat-gofer-stage') && child.pid !== undefined) {
    try {
      releaseGoferSync(child.pid);
    } catch {
      // It stopped before (a refused start): its exit status and stderr tell why.
    }
  }
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { sock: mine, child, stderr: () => err };
}

/** Spawns `argv` on a socketpair and connects a client (Tversion, Tattach with `aname`). */
function startPeer(argv: string[], aname: string): Peer {
  const { sock, child, stderr } = spawnOnSocket(argv);
  const client = P9Client.connect(sock, { aname, msize: 65536 });
  if (typeof client === 'number') {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    throw new Error(`connect to ${argv[0] ?? ''}: errno ${-client}: ${stderr()}`);
  }
  return {
    client,
    child,
    stderr,
    stop: () => {
      client.close();
      return waitExit(child, 5000);
    },
  };
}

/** The argv that starts our Gofer as the launcher does (confined by its stage). */
export function goferArgv(root: string, readonly = false): string[] {
  const c = goferCommand(REPO_DIR, root, readonly, false);
  return [c.file, ...c.args];
}

/** Our Gofer serving `root`. */
export function startGofer(root: string, readonly = false): Peer {
  return startPeer(goferArgv(root, readonly), '');
}

/** Debian's diod serving `dir` on the socket (diod -r/-w: a connected client on an fd). */
export function startDiod(dir: string): Peer {
  return startPeer([DIOD, '-f', '-n', '-r', '3', '-w', '3', '-e', dir, '-L', 'stderr'], dir);
}

export interface Tree {
  /** Parent temp dir: holds `root` (served) and `outside` (must stay unreachable). */
  base: string;
  root: string;
  outside: string;
  cleanup(): void;
}

/** root/: hello.txt, dir/inner.txt, empty/, links to "/", "../../..", "/etc/passwd", outside;
 * outside/: secret.txt. */
export function makeTree(): Tree {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-p9-'));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(root, 'dir'), { recursive: true });
  fs.mkdirSync(path.join(root, 'empty'));
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(root, 'hello.txt'), 'hello, gofer\n');
  fs.writeFileSync(path.join(root, 'dir', 'inner.txt'), 'inner\n');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
  fs.symlinkSync('/', path.join(root, 'to_root'));
  fs.symlinkSync('../../..', path.join(root, 'dir', 'up'));
  fs.symlinkSync('/etc/passwd', path.join(root, 'abs_link'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'to_secret'));
  fs.symlinkSync('../outside', path.join(root, 'to_outside'));
  return { base, root, outside, cleanup: () => fs.rmSync(base, { recursive: true, force: true }) };
}

export interface TcpGofer {
  port: number;
  /** Stops listening, kills (by pid) any Gofer still running, waits for them. */
  close(): Promise<void>;
}

/** A loopback TCP listener that hands each accepted connection to a new Gofer child (for
 * diod's clients, which speak 9P over TCP only). */
export function serveGoferOnTcp(root: string): Promise<TcpGofer> {
  const children: ChildProcess[] = [];
  const srv = net.createServer({ pauseOnConnect: true }, (sock) => {
    const c = goferCommand(REPO_DIR, root, false, false);
    const child = spawn(c.file, c.args, { stdio: ['ignore', 'ignore', 'inherit', sock] });
    if (child.pid !== undefined) releaseGofer(child.pid).catch(() => undefined);
    children.push(child);
    sock.destroy();
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      resolve({
        port: addr.port,
        close: async () => {
          await new Promise<void>((r) => srv.close(() => r()));
          await Promise.all(children.map((c) => waitExit(c, 2000)));
        },
      });
    });
  });
}

/** Runs a program to completion; its exit code, stdout and stderr. */
export function run(
  cmd: string,
  args: string[],
  timeoutMs = 10000,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (e, out, err) => {
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
      resolve({ code, out, err });
    });
  });
}
