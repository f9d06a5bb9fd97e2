// The state store: one directory per container under the state root, <root>/<id>/, holding
// state.json (written atomically: temp file, fsync, rename) and a lock file. Commands on one
// container are serialized with flock(2) on <root>/<id>/lock. Ids are checked before they
// become paths, so nothing here can name a file outside the root. Never starts or signals
// processes; never prints.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkId, isValidId } from './container_id.js';
import { OciError } from './errors.js';
import type { ContainerRecord } from './state_types.js';

const STATE_FILE = 'state.json';
const LOCK_FILE = 'lock';
const EWOULDBLOCK = 11;
const EINTR = 4;

function sysCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A held per-container lock; release() is idempotent. */
export class ContainerLock {
  private fd: number;
  constructor(fd: number) {
    this.fd = fd;
  }
  release(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

export class StateStore {
  readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  dir(id: string): string {
    return path.join(this.root, checkId(id));
  }

  /** Creates <root>/<id>/ for a new container; CONTAINER_EXISTS if it is taken. */
  reserve(id: string): string {
    const dir = this.dir(id);
    try {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
      if (!fs.statSync(this.root).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      throw new OciError('STATE_IO', `create state root "${this.root}": ${why(e)}`, { cause: e });
    }
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (sysCode(e) === 'EEXIST') {
        throw new OciError('CONTAINER_EXISTS', `container "${id}" already exists`, { cause: e });
      }
      if (sysCode(e) === 'ENAMETOOLONG') {
        throw new OciError(
          'OCI_INVALID_ID',
          `invalid container id: too long for a directory name (${Buffer.byteLength(id)} bytes)`,
          { cause: e },
        );
      }
      throw new OciError('STATE_IO', `create state dir "${dir}": ${why(e)}`, { cause: e });
    }
    return dir;
  }

  /**
   * Takes the container's lock, waiting up to timeoutMs (longer than a sandbox may take to
   * boot, so that a command queued behind a `create` outlasts it) for the holder to release it.
   * CONTAINER_NOT_FOUND if the container does not exist or was deleted while we waited.
   */
  async lock(id: string, timeoutMs = 90_000): Promise<ContainerLock> {
    const dir = this.dir(id);
    const lockPath = path.join(dir, LOCK_FILE);
    // Loaded here, not at the top: readers (state, list) never need the FFI.
    const { LOCK_EX, LOCK_NB, flock } = await import('../host/proc.js');
    let fd: number;
    try {
      fd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    } catch (e) {
      if (sysCode(e) === 'ENOENT' || sysCode(e) === 'ENAMETOOLONG') {
        throw new OciError('CONTAINER_NOT_FOUND', `container "${id}" does not exist`, {
          cause: e,
        });
      }
      throw new OciError('STATE_IO', `open lock file "${lockPath}": ${why(e)}`, { cause: e });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = flock(fd, LOCK_EX | LOCK_NB);
      if (r === 0) break;
      if (r !== -EWOULDBLOCK && r !== -EINTR) {
        fs.closeSync(fd);
        throw new OciError('STATE_LOCK_FAILED', `lock container "${id}": errno ${-r}`);
      }
      if (Date.now() > deadline) {
        fs.closeSync(fd);
        throw new OciError('STATE_LOCK_FAILED', `lock container "${id}": timed out`);
      }
      await sleep(10);
    }
    // The holder we waited for may have deleted the container: our lock file is then unlinked.
    let same = false;
    try {
      const a = fs.fstatSync(fd);
      const b = fs.statSync(lockPath);
      same = a.ino === b.ino && a.dev === b.dev;
    } catch {
      same = false;
    }
    if (!same) {
      fs.closeSync(fd);
      throw new OciError('CONTAINER_NOT_FOUND', `container "${id}" does not exist`);
    }
    return new ContainerLock(fd);
  }

  /** True when <root>/<id>/state.json exists. */
  exists(id: string): boolean {
    return fs.existsSync(path.join(this.dir(id), STATE_FILE));
  }

  read(id: string): ContainerRecord {
    const file = path.join(this.dir(id), STATE_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if (['ENOENT', 'ENOTDIR', 'ENAMETOOLONG'].includes(sysCode(e))) {
        throw new OciError('CONTAINER_NOT_FOUND', `container "${id}" does not exist`, {
          cause: e,
        });
      }
      throw new OciError('STATE_IO', `read "${file}": ${why(e)}`, { cause: e });
    }
    return parseRecord(text, id, file);
  }

  /** Writes state.json atomically: a reader sees the old or the new file, never a mix. */
  write(rec: ContainerRecord): void {
    const dir = this.dir(rec.id);
    const file = path.join(dir, STATE_FILE);
    const tmp = path.join(dir, `.${STATE_FILE}.${process.pid}.tmp`);
    try {
      const fd = fs.openSync(tmp, 'w', 0o600);
      try {
        fs.writeFileSync(fd, JSON.stringify(rec));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw new OciError('STATE_IO', `write "${file}": ${why(e)}`, { cause: e });
    }
  }

  /** Removes <root>/<id>/ and everything in it. */
  remove(id: string): void {
    const dir = this.dir(id);
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      throw new OciError('STATE_IO', `remove "${dir}": ${why(e)}`, { cause: e });
    }
  }

  /** Ids of the containers in the store that have a state file, sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (e) {
      if (sysCode(e) === 'ENOENT') return [];
      throw new OciError('STATE_IO', `list "${this.root}": ${why(e)}`, { cause: e });
    }
    return names.filter((n) => isValidId(n) && this.exists(n)).sort();
  }
}

function isRef(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.pid === 'number' && typeof r.startTime === 'string';
}

/** Checks the shape of a stored record; a damaged file is STATE_CORRUPT, never a crash. */
export function parseRecord(text: string, id: string, file: string): ContainerRecord {
  const bad = (reason: string, cause?: unknown): OciError =>
    new OciError('STATE_CORRUPT', `read "${file}": ${reason}`, { cause });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw bad('invalid JSON', e);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not an object');
  const r = v as Record<string, unknown>;
  for (const k of ['ociVersion', 'id', 'bundle', 'rootfs', 'created', 'owner'] as const) {
    if (typeof r[k] !== 'string') throw bad(`${k}: must be a string`);
  }
  if (r.id !== id) throw bad(`id: "${String(r.id)}" does not match the directory`);
  if (r.status !== 'created' && r.status !== 'running') throw bad('status: unknown value');
  if (typeof r.pid !== 'number') throw bad('pid: must be a number');
  if (typeof r.annotations !== 'object' || r.annotations === null) {
    throw bad('annotations: must be an object');
  }
  const sb = r.sandbox as Record<string, unknown> | null | undefined;
  if (typeof sb !== 'object' || sb === null) throw bad('sandbox: must be an object');
  if (!isRef(sb.sandbox) || !isRef(sb.gofer) || typeof sb.controlSocket !== 'string') {
    throw bad('sandbox: malformed');
  }
  if (sb.sentry !== undefined && !isRef(sb.sentry)) throw bad('sandbox.sentry: malformed');
  if (
    sb.mountGofers !== undefined &&
    !(Array.isArray(sb.mountGofers) && sb.mountGofers.every(isRef))
  ) {
    throw bad('sandbox.mountGofers: malformed');
  }
  return v as ContainerRecord;
}
