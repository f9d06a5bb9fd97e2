// The container lifecycle on top of the state store and the launcher: create, start, kill,
// delete, and the status a record stands for (runtime-spec runtime.md "Lifecycle").
// Each operation holds the container's lock for its whole read-modify-write, so concurrent
// commands on one container are serialized. A container is `stopped` as soon as its sandbox
// process is gone, whatever the record says. Never prints; never signals a process that is
// not recorded as ours (pid and start time both match).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkId } from '../oci/container_id.js';
import { OciError } from '../oci/errors.js';
import type { Spec } from '../oci/spec_types.js';
import type { StateStore } from '../oci/state_store.js';
import type { ContainerRecord, ContainerStatus, ProcessRef } from '../oci/state_types.js';
import { bootFromSpec } from './boot_build.js';
import { COMMIT_LINE, TIE_LINE, isBindMount } from './boot_spec.js';
import { ControlError, controlRequest } from './control_client.js';
import {
  type CgroupRequest,
  type SandboxCgroups,
  createCgroups,
  procsFiles,
  removeCgroups,
} from './cgroups.js';
import { SandboxError } from './errors.js';
import type { LaunchParams, LaunchedSandbox } from './launcher.js';
import { isAlive, signalRef, waitGone } from './proc_stat.js';

const SOCKETS_DIR = '.s';
const SUN_PATH_MAX = 107;

export interface CreateParams {
  id: string;
  /** Absolute bundle directory (reported in the state). */
  bundleDir: string;
  /** Absolute root file system directory. */
  rootfs: string;
  spec: Spec;
  pidFile?: string;
  logPath?: string;
  logFormat?: 'text' | 'json';
  debug?: boolean;
  /** The Sentry's platform (absent: ptrace). */
  platform?: 'ptrace' | 'systrap';
  goferStderr?: number | 'inherit' | 'ignore';
  repo?: string;
  readyTimeoutMs?: number;
  /** The sandbox ends when this process does (`moat do`), instead of living on. */
  tied?: boolean;
  /** Receives what could not be applied on this host (for the debug log). */
  onNote?: (msg: string) => void;
}

export interface CreatedContainer {
  record: ContainerRecord;
  launched: LaunchedSandbox;
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The control socket: in the state dir unless that path is too long for sun_path, then a
 * short hashed name under <root>/.s/; an error if even that does not fit (a socket path
 * silently truncated by bind(2) would be one that delete cannot find).
 */
export function controlSocketPath(store: StateStore, id: string): string {
  const p = path.join(store.dir(id), 'control.sock');
  if (Buffer.byteLength(p) <= SUN_PATH_MAX) return p;
  const h = createHash('sha256').update(id).digest('hex').slice(0, 16);
  const short = path.join(store.root, SOCKETS_DIR, `${h}.sock`);
  if (Buffer.byteLength(short) <= SUN_PATH_MAX) return short;
  throw new OciError(
    'STATE_IO',
    `state root "${store.root}" is too long for a control socket path (at most ${SUN_PATH_MAX - 25} bytes)`,
  );
}

/** Writes a pid file atomically, as runc does for --pid-file. */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new SandboxError('SANDBOX_START_FAILED', `write pid file "${abs}": ${why(e)}`, {
      cause: e,
    });
  }
}

export function containerStatus(rec: ContainerRecord): ContainerStatus {
  return isAlive(rec.sandbox.sandbox) ? rec.status : 'stopped';
}

function sandboxRefs(rec: ContainerRecord): ProcessRef[] {
  const refs = [rec.sandbox.sandbox, rec.sandbox.gofer, ...(rec.sandbox.mountGofers ?? [])];
  if (rec.sandbox.sentry !== undefined) refs.unshift(rec.sandbox.sentry);
  return refs;
}

/** The processes in a cgroup directory moat created for this sandbox. */
function cgroupPids(dir: string): number[] {
  try {
    return fs
      .readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Kills every recorded process of the sandbox (SIGKILL, identity-checked) and waits; then
 * whatever is still in the sandbox's own cgroups (only moat's processes ever join them), and
 * removes the cgroups moat created.
 */
export async function stopSandbox(rec: ContainerRecord, timeoutMs = 10_000): Promise<void> {
  const refs = sandboxRefs(rec);
  for (const r of refs) signalRef(r, 'SIGKILL');
  if (!(await waitGone(refs, timeoutMs))) {
    const left = refs.filter(isAlive).map((r) => r.pid);
    throw new SandboxError(
      'SANDBOX_STOP_FAILED',
      `stop container "${rec.id}": processes ${left.join(', ')} did not exit`,
    );
  }
  const cg = rec.sandbox.cgroups;
  if (cg === undefined) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const own = cg.dirs.filter((d) => cg.created.includes(d));
    const pids = own.flatMap(cgroupPids);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    const left = removeCgroups(cg.created);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new SandboxError(
        'SANDBOX_STOP_FAILED',
        `stop container "${rec.id}": cgroups ${left.join(', ')} could not be removed`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The cgroups a create made, listed in the state dir before anything runs in them. */
const CGROUPS_FILE = 'cgroups.json';

/**
 * Removes the cgroups a half-made create listed (killing what is in them: only that create's
 * processes ever joined them). Best effort: a cgroup that cannot go is left.
 */
async function removeHalfMadeCgroups(dir: string): Promise<void> {
  let created: unknown;
  try {
    created = JSON.parse(fs.readFileSync(path.join(dir, CGROUPS_FILE), 'utf8'));
  } catch {
    return;
  }
  if (!Array.isArray(created)) return;
  await clearCgroups(
    created.filter((d): d is string => typeof d === 'string' && d.startsWith('/sys/fs/cgroup/')),
  );
}

/**
 * Kills what is still in cgroups moat made and removes them, retrying for about two seconds
 * while their processes finish exiting (a cgroup with a dying process in it refuses rmdir).
 * Best effort: a cgroup that cannot go is left.
 */
async function clearCgroups(dirs: string[]): Promise<void> {
  for (let k = 0; k < 100; k++) {
    for (const pid of dirs.flatMap(cgroupPids)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    if (removeCgroups(dirs).length === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function removeAll(store: StateStore, id: string, socket: string): void {
  fs.rmSync(socket, { force: true });
  store.remove(id);
  if (path.dirname(socket) !== store.dir(id)) {
    try {
      fs.rmdirSync(path.dirname(socket));
    } catch {
      // Other containers' sockets are still there.
    }
  }
}

/** The caller's user name, as runc reports it; the uid when it has no passwd entry. */
function ownerName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}

/**
 * Creates a container: reserves <root>/<id>, starts the sandbox with the init process loaded
 * but not running, writes state.json (status created) and the pid file. On failure nothing
 * is left: processes killed, state dir removed.
 */
export async function createContainer(
  store: StateStore,
  p: CreateParams,
): Promise<CreatedContainer> {
  const id = checkId(p.id);
  const socket = controlSocketPath(store, id);
  const stateDir = store.reserve(id);
  let lock;
  try {
    lock = await store.lock(id);
  } catch (e) {
    removeAll(store, id, socket);
    throw e;
  }
  let cgroups: SandboxCgroups | undefined;
  try {
    if (path.dirname(socket) !== stateDir) fs.mkdirSync(path.dirname(socket), { recursive: true });
    const bootOpts: Parameters<typeof bootFromSpec>[1] = { id, controlSocket: socket };
    if (p.logPath !== undefined) bootOpts.logPath = p.logPath;
    if (p.logFormat !== undefined) bootOpts.logFormat = p.logFormat;
    if (p.debug !== undefined) bootOpts.debug = p.debug;
    if (p.platform !== undefined) bootOpts.platform = p.platform;
    // Loaded here, not at the top: readers (state, list) never need the FFI.
    const { launchSandbox } = await import('./launcher.js');
    const gofers = 1 + p.spec.mounts.filter(isBindMount).length;
    const cgReq: CgroupRequest = { id, gofers };
    if (p.spec.linux?.cgroupsPath !== undefined) cgReq.cgroupsPath = p.spec.linux.cgroupsPath;
    if (p.spec.linux?.resources !== undefined) cgReq.resources = p.spec.linux.resources;
    cgroups = createCgroups(cgReq);
    // Written at once: a create killed before state.json leaves these for delete to remove.
    fs.writeFileSync(path.join(stateDir, CGROUPS_FILE), JSON.stringify(cgroups.created));
    for (const n of cgroups.notes) p.onNote?.(n);
    const launchParams: LaunchParams = {
      stateDir,
      rootfs: p.rootfs,
      readonlyRoot: p.spec.root.readonly,
      boot: bootFromSpec(p.spec, bootOpts),
      bundle: p.bundleDir,
      cgroupProcs: procsFiles(cgroups),
    };
    if (p.goferStderr !== undefined) launchParams.goferStderr = p.goferStderr;
    if (p.repo !== undefined) launchParams.repo = p.repo;
    if (p.readyTimeoutMs !== undefined) launchParams.readyTimeoutMs = p.readyTimeoutMs;
    const launched = await launchSandbox(launchParams);
    launched.record.cgroups = { dirs: cgroups.dirs, created: cgroups.created };
    const record: ContainerRecord = {
      ociVersion: p.spec.ociVersion,
      id,
      status: 'created',
      // The sandbox process, not the Sentry: it is the CLI's own child, so a supervisor that
      // reaps orphans (containerd's shim, conmon) reaps it and gets the container's status.
      pid: launched.record.sandbox.pid,
      bundle: p.bundleDir,
      rootfs: p.rootfs,
      created: new Date().toISOString(),
      owner: ownerName(),
      annotations: { ...p.spec.annotations },
      sandbox: launched.record,
    };
    try {
      store.write(record);
      if (p.pidFile !== undefined) writePidFile(p.pidFile, record.pid);
    } catch (e) {
      await stopSandbox(record).catch(() => undefined);
      throw e;
    }
    // Recorded: from here on the sandbox may outlive this process (until then it may not).
    await launched.commit(p.tied === true ? TIE_LINE : COMMIT_LINE);
    return { record, launched };
  } catch (e) {
    removeAll(store, id, socket);
    // The sandbox's processes may still be exiting: their cgroups go once they have.
    if (cgroups !== undefined) await clearCgroups(cgroups.created);
    throw wrap(`create container "${id}"`, e);
  } finally {
    lock.release();
  }
}

/** Prefixes an error's message with what was being done, keeping its class and code. */
function wrap(what: string, e: unknown): Error {
  if (e instanceof SandboxError)
    return new SandboxError(e.code, `${what}: ${e.message}`, { cause: e });
  if (e instanceof OciError) return new OciError(e.code, `${what}: ${e.message}`, { cause: e });
  return new SandboxError('SANDBOX_START_FAILED', `${what}: ${why(e)}`, { cause: e });
}

/**
 * Reads a container's record and current status without taking its lock: state.json is
 * replaced atomically, so a reader never sees half a record, and `state` does not wait for a
 * `create` that is still booting its sandbox.
 */
export function readContainer(
  store: StateStore,
  id: string,
): Promise<{ record: ContainerRecord; status: ContainerStatus }> {
  const record = store.read(checkId(id));
  return Promise.resolve({ record, status: containerStatus(record) });
}

/** Runs the created container's init process (runtime-spec "start"). */
export async function startContainer(store: StateStore, id: string): Promise<ContainerRecord> {
  const lock = await store.lock(checkId(id));
  try {
    const rec = store.read(id);
    const status = containerStatus(rec);
    if (status !== 'created') {
      throw new SandboxError(
        'CONTAINER_BAD_STATE',
        `start container "${id}": cannot start a container that is ${status}`,
      );
    }
    try {
      await controlRequest(rec.sandbox.controlSocket, { op: 'start' });
    } catch (e) {
      // A Sentry whose init exits at once may exit before its answer is out: the request was
      // delivered and the container ran, so that counts as started.
      const ranAndExited =
        e instanceof ControlError && e.unanswered && (await waitGone([rec.sandbox.sandbox], 1000));
      if (!ranAndExited) throw wrap(`start container "${id}"`, e);
    }
    rec.status = 'running';
    store.write(rec);
    return rec;
  } finally {
    lock.release();
  }
}

/** Sends a signal to the container's init process (or every process with `all`). */
export async function killContainer(
  store: StateStore,
  id: string,
  signal: number,
  all: boolean,
): Promise<void> {
  const lock = await store.lock(checkId(id));
  try {
    const rec = store.read(id);
    if (containerStatus(rec) === 'stopped') {
      throw new SandboxError('CONTAINER_NOT_RUNNING', `kill container "${id}": it is not running`);
    }
    try {
      await controlRequest(rec.sandbox.controlSocket, { op: 'kill', signal, all });
    } catch (e) {
      throw wrap(`kill container "${id}"`, e);
    }
  } finally {
    lock.release();
  }
}

/**
 * Deletes a container: a stopped or created one always, a running one only with `force`.
 * Kills what is left of the sandbox, waits for it, removes the socket and the state dir.
 */
export async function deleteContainer(
  store: StateStore,
  id: string,
  force: boolean,
): Promise<void> {
  const lock = await store.lock(checkId(id));
  try {
    let rec: ContainerRecord;
    try {
      rec = store.read(id);
    } catch (e) {
      // A directory without a record is what a create that died half-way leaves (its lock
      // went with it): remove it and the cgroups it made, as runc does, and still report the
      // container as missing.
      if (e instanceof OciError && e.code === 'CONTAINER_NOT_FOUND') {
        await removeHalfMadeCgroups(store.dir(id));
        store.remove(id);
      }
      // A damaged record names no process we could stop: with --force the directory goes.
      if (!(force && e instanceof OciError && e.code === 'STATE_CORRUPT')) throw e;
      store.remove(id);
      return;
    }
    const status = containerStatus(rec);
    if (status === 'running' && !force) {
      throw new SandboxError(
        'CONTAINER_BAD_STATE',
        `delete container "${id}": it is running (stop it first, or use --force)`,
      );
    }
    try {
      await stopSandbox(rec);
    } catch (e) {
      throw wrap(`delete container "${id}"`, e);
    }
    removeAll(store, id, rec.sandbox.controlSocket);
  } finally {
    lock.release();
  }
}

/** Ids and records of every container in the store, skipping ones deleted meanwhile. */
export function listContainers(
  store: StateStore,
  onDamaged: (id: string, e: OciError) => void = () => undefined,
): Array<{ record: ContainerRecord; status: ContainerStatus }> {
  const out: Array<{ record: ContainerRecord; status: ContainerStatus }> = [];
  for (const id of store.list()) {
    try {
      const record = store.read(id);
      out.push({ record, status: containerStatus(record) });
    } catch (e) {
      if (e instanceof OciError && e.code === 'CONTAINER_NOT_FOUND') continue;
      if (e instanceof OciError && e.code === 'STATE_CORRUPT') {
        onDamaged(id, e);
        continue;
      }
      throw e;
    }
  }
  return out;
}

/** The container's processes (virtual pids) as the Sentry reports them. */
export async function psContainer(store: StateStore, id: string): Promise<number[]> {
  const lock = await store.lock(checkId(id));
  try {
    const rec = store.read(id);
    if (containerStatus(rec) === 'stopped') return [];
    try {
      const res = await controlRequest(rec.sandbox.controlSocket, { op: 'ps' });
      return res.pids ?? [];
    } catch (e) {
      throw wrap(`ps container "${id}"`, e);
    }
  } finally {
    lock.release();
  }
}
