// The contract between the launcher (CLI) and the Sentry process: what the Sentry boots.
// The launcher writes it as JSON to <state dir>/<id>/boot.json and starts the Sentry through
// its stage (sentry_stage.ts), which copies it to /boot.json of the Sentry's own root, with
// fds 0-2 = the container's stdio (the caller's), fd 3 = the Sentry's end of the Gofer
// socketpair, fd 4 = the Sentry's end of the "ready" socket, then the bind mounts' Gofer
// sockets, the control socket and the log file. It must never carry secrets of the
// host beyond what config.json already says.
//
// Ready protocol: the Sentry writes one JSON line to fd 4 — {"ok":true} once the init process
// is loaded (not running), or {"ok":false,"error":"<message>"} (then closes fd 4 and exits).
// After ok it reads fd 4: the launcher writes COMMIT_LINE once the sandbox is recorded
// (state.json, pid file) and closes it. Anything else, or end of file first — the launcher was
// killed part-way — and the Sentry exits, so a half-made sandbox never outlives its launcher.
// TIE_LINE instead ties the sandbox to the launcher for good (`moat do`, whose state root is
// temporary): the launcher keeps its end open, and when it closes, init is SIGKILLed.
// Control protocol: the Sentry serves `controlSocket`, a Unix stream socket the launcher binds
// on the host and hands over as fd `controlFd` (the Sentry's root holds no host path). Each connection carries newline-delimited JSON requests, one
// response line each:
//   {"op":"start"}                     → {"ok":true} | {"ok":false,"error":"..."}
//   {"op":"kill","signal":<n>,"all":b} → {"ok":true} | {"ok":false,"error":"..."}
//   {"op":"ps"}                        → {"ok":true,"pids":[<virtual pids>]}
// The Sentry exits when the container's init process exits, with its exit status (or
// 128+signal when a signal ended it).

import type { SpecSeccomp } from '../oci/spec_types.js';

/** What the launcher writes on the ready socket once the sandbox is recorded (no newline). */
export const COMMIT_LINE = 'commit';
/** The same, for a sandbox that must end with its launcher. */
export const TIE_LINE = 'tie';
export type CommitWord = typeof COMMIT_LINE | typeof TIE_LINE;

/** Whether a config.json mount is a bind mount (type "bind", or a bind/rbind option). */
export function isBindMount(m: { type?: string; options?: readonly string[] }): boolean {
  const o = m.options ?? [];
  return m.type === 'bind' || o.includes('bind') || o.includes('rbind');
}

export interface BootSpec {
  id: string;
  /** argv of the init process; args[0] is resolved against PATH in env, as runc does. */
  args: string[];
  env: string[];
  cwd: string;
  hostname: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  /** Path of the control socket (on the host, in the state dir). */
  controlSocket: string;
  /** File descriptor numbers, as inherited by the Sentry. */
  goferFd: number;
  readyFd: number;
  /** The control socket, bound and listening, as the Sentry's fd (added by the launcher). */
  controlFd?: number;
  /** Optional log file (debug messages, unimplemented-syscall reports). */
  logPath?: string;
  /** The log file opened for appending, as the Sentry's fd (added by the launcher). */
  logFd?: number;
  logFormat?: 'text' | 'json';
  debug?: boolean;
  /** How the Sentry runs application code: ptrace (the default) or systrap. */
  platform?: 'ptrace' | 'systrap';
  /** RLIMIT_NOFILE and friends from config.json, by Linux name. */
  rlimits?: Array<{ type: string; soft: number; hard: number }>;
  /** Added by the launcher (optional): the root is read-only (root.readonly in config.json). */
  readonlyRoot?: boolean;
  /** Added by the launcher (optional): process.user.umask, when config.json sets it. */
  umask?: number;
  /** Added by the launcher (optional): process.noNewPrivileges. */
  noNewPrivileges?: boolean;
  /** Added by the launcher (optional): config.json's mounts, in order, as validated. */
  mounts?: Array<{
    destination: string;
    type?: string;
    source?: string;
    options?: string[];
    /** Bind mounts: the fd (10, 11, …) of the socket to this mount's own Gofer. */
    goferFd?: number;
    /** Bind mounts of a file: its Gofer serves it as the single entry "file" of its root. */
    goferFile?: boolean;
  }>;
  /** process.capabilities, by name (absent: the process has none, as under runc). */
  capabilities?: {
    bounding?: string[];
    effective?: string[];
    inheritable?: string[];
    permitted?: string[];
    ambient?: string[];
  };
  /** linux.seccomp: the profile the Sentry enforces on the application's calls. */
  seccomp?: SpecSeccomp;
  /** linux.resources.memory.limit in bytes: the application's memory, held by the Sentry. */
  memoryLimit?: number;
  /** linux.resources.pids.limit: the most tasks (threads) the sandbox may have at once. */
  pidsLimit?: number;
  /**
   * How many host CPUs application code may use at once (the run loop's lanes); absent: every
   * CPU the sandbox may run on.
   */
  lanes?: number;
  /** Added by the launcher (optional): linux.maskedPaths and linux.readonlyPaths. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
}
