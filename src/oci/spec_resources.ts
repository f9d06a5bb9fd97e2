// Parses config.json's linux.resources (runtime-spec config-linux.md "Control groups") into
// the typed limits moat enforces: memory, pids, cpu and blockIO. Input is hostile: a value of
// the wrong type or out of range is an OciError naming the field; fields moat does not
// enforce (devices, hugepageLimits, network, rdma, unified) are accepted and ignored, as
// runc ignores what the host lacks. Never touches the disk.

import { OciError } from './errors.js';

export interface MemoryResources {
  /** Bytes; -1 (or absent) means no limit. */
  limit?: number;
  reservation?: number;
  /** Memory plus swap, in bytes (runc's meaning); -1 means no limit. */
  swap?: number;
}

export interface CpuResources {
  shares?: number;
  quota?: number;
  period?: number;
  cpus?: string;
  mems?: string;
}

export interface Resources {
  memory?: MemoryResources;
  pids?: { limit: number };
  cpu?: CpuResources;
  blockIO?: { weight?: number };
  /** Kept as given (the Sentry has no host devices to guard): for `moat spec` and readers. */
  devices?: Array<{ allow: boolean; access?: string }>;
}

type JsonObject = Record<string, unknown>;

function fail(path: string, reason: string): never {
  throw new OciError('OCI_INVALID_SPEC', `config.json: ${path}: ${reason}`);
}

function obj(v: unknown, path: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
  return v as JsonObject;
}

/** An integer (JSON numbers past 2^53 lose precision, which is fine for limits). */
function int(v: unknown, path: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    fail(path, `must be an integer of at least ${min}`);
  }
  return v;
}

/** A limit in bytes: -1 for none, else at least one page. */
function byteLimit(v: unknown, path: string): number {
  const n = int(v, path, -1);
  if (n !== -1 && n < 4096) fail(path, 'must be -1 (no limit) or at least 4096 bytes');
  return n;
}

/** A cpuset list such as "0-2,4": digits, commas and ranges only. */
function cpuList(v: unknown, path: string): string {
  if (typeof v !== 'string' || !/^(\d+(-\d+)?)(,\d+(-\d+)?)*$/.test(v)) {
    fail(path, 'must be a list such as "0-2,4"');
  }
  return v;
}

function memory(v: unknown, path: string): MemoryResources {
  const o = obj(v, path);
  const m: MemoryResources = {};
  if (o['limit'] !== undefined) m.limit = byteLimit(o['limit'], `${path}.limit`);
  if (o['reservation'] !== undefined)
    m.reservation = byteLimit(o['reservation'], `${path}.reservation`);
  if (o['swap'] !== undefined) m.swap = byteLimit(o['swap'], `${path}.swap`);
  if (m.swap !== undefined && m.swap !== -1 && m.limit !== undefined && m.limit !== -1) {
    if (m.swap < m.limit) fail(`${path}.swap`, 'must be at least memory.limit (memory + swap)');
  }
  return m;
}

function cpu(v: unknown, path: string): CpuResources {
  const o = obj(v, path);
  const c: CpuResources = {};
  if (o['shares'] !== undefined) c.shares = int(o['shares'], `${path}.shares`, 2);
  if (o['quota'] !== undefined) c.quota = int(o['quota'], `${path}.quota`, -1);
  if (o['period'] !== undefined) c.period = int(o['period'], `${path}.period`, 1000);
  if (o['cpus'] !== undefined && o['cpus'] !== '') c.cpus = cpuList(o['cpus'], `${path}.cpus`);
  if (o['mems'] !== undefined && o['mems'] !== '') c.mems = cpuList(o['mems'], `${path}.mems`);
  if (c.quota !== undefined && c.quota !== -1 && c.quota < 1000) {
    fail(`${path}.quota`, 'must be -1 (no limit) or at least 1000 microseconds');
  }
  return c;
}

/** linux.resources → Resources; `path` is the field's name in messages. */
export function parseResources(v: unknown, path = 'linux.resources'): Resources {
  const o = obj(v, path);
  const r: Resources = {};
  if (o['memory'] !== undefined) r.memory = memory(o['memory'], `${path}.memory`);
  if (o['pids'] !== undefined) {
    const p = obj(o['pids'], `${path}.pids`);
    // 0 and -1 both mean "no limit" in runc.
    const limit = int(p['limit'], `${path}.pids.limit`, -1);
    if (limit > 0) r.pids = { limit };
  }
  if (o['cpu'] !== undefined) r.cpu = cpu(o['cpu'], `${path}.cpu`);
  if (o['blockIO'] !== undefined) {
    const b = obj(o['blockIO'], `${path}.blockIO`);
    r.blockIO = {};
    if (b['weight'] !== undefined) {
      const w = int(b['weight'], `${path}.blockIO.weight`, 0);
      if (w !== 0 && (w < 10 || w > 1000)) fail(`${path}.blockIO.weight`, 'must be 10 to 1000');
      if (w !== 0) r.blockIO.weight = w;
    }
  }
  if (o['devices'] !== undefined) {
    if (!Array.isArray(o['devices'])) fail(`${path}.devices`, 'must be an array');
    r.devices = o['devices'].map((d: unknown, k) => {
      const e = obj(d, `${path}.devices[${k}]`);
      if (typeof e['allow'] !== 'boolean') fail(`${path}.devices[${k}].allow`, 'must be a boolean');
      const out: { allow: boolean; access?: string } = { allow: e['allow'] };
      if (typeof e['access'] === 'string') out.access = e['access'];
      return out;
    });
  }
  return r;
}

/** The memory limit in bytes, or undefined when there is none. */
export function memoryLimitOf(r: Resources | undefined): number | undefined {
  const l = r?.memory?.limit;
  return l === undefined || l === -1 ? undefined : l;
}
