// Turns a validated OCI spec (or the `moat do` defaults) into the BootSpec that the Sentry
// reads from boot.json (see boot_spec.ts). Pure: never touches the disk. Must never put
// anything into the boot spec that config.json or the caller did not say.

import { memoryLimitOf } from '../oci/spec_resources.js';
import type { Spec } from '../oci/spec_types.js';
import type { BootSpec } from './boot_spec.js';

/** The fd numbers the launcher gives the Sentry (boot_spec.ts). */
export const SENTRY_GOFER_FD = 3;
export const SENTRY_READY_FD = 4;

export interface BootOptions {
  id: string;
  controlSocket: string;
  logPath?: string;
  logFormat?: 'text' | 'json';
  debug?: boolean;
  platform?: 'ptrace' | 'systrap';
}

export function bootFromSpec(spec: Spec, opts: BootOptions): BootSpec {
  const p = spec.process;
  const boot: BootSpec = {
    id: opts.id,
    args: [...p.args],
    env: [...p.env],
    cwd: p.cwd,
    hostname: spec.hostname ?? opts.id.slice(0, 64),
    uid: p.user.uid,
    gid: p.user.gid,
    additionalGids: [...(p.user.additionalGids ?? [])],
    controlSocket: opts.controlSocket,
    goferFd: SENTRY_GOFER_FD,
    readyFd: SENTRY_READY_FD,
    readonlyRoot: spec.root.readonly,
    noNewPrivileges: p.noNewPrivileges,
    mounts: spec.mounts.map((m) => ({ ...m })),
  };
  if (p.rlimits !== undefined) boot.rlimits = p.rlimits.map((r) => ({ ...r }));
  if (p.capabilities !== undefined) boot.capabilities = structuredClone(p.capabilities);
  if (p.user.umask !== undefined) boot.umask = p.user.umask;
  if (spec.linux?.maskedPaths !== undefined) boot.maskedPaths = [...spec.linux.maskedPaths];
  if (spec.linux?.readonlyPaths !== undefined) boot.readonlyPaths = [...spec.linux.readonlyPaths];
  if (spec.linux?.seccomp !== undefined) boot.seccomp = structuredClone(spec.linux.seccomp);
  const mem = memoryLimitOf(spec.linux?.resources);
  if (mem !== undefined) boot.memoryLimit = mem;
  const pids = spec.linux?.resources?.pids?.limit;
  if (pids !== undefined) boot.pidsLimit = pids;
  if (opts.logPath !== undefined) boot.logPath = opts.logPath;
  if (opts.logFormat !== undefined) boot.logFormat = opts.logFormat;
  if (opts.debug !== undefined) boot.debug = opts.debug;
  if (opts.platform !== undefined) boot.platform = opts.platform;
  return boot;
}
