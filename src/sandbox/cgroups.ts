// The sandbox's host cgroups: every process of a sandbox (the Sentry, its stubs, the Gofers)
// runs in one cgroup per controller hierarchy, which carries config.json's linux.resources,
// so that no container can take more of the host than its spec grants, whatever the Sentry
// does. Works on cgroup v1, v2 and hybrid hosts: a controller is used on the hierarchy where
// the host has it (v1 first, as the kernel allows each controller on one hierarchy only).
//
// Placement follows runc: an absolute linux.cgroupsPath is taken from each hierarchy's mount
// point, a relative one from the caller's own cgroup, systemd's "slice:prefix:name" becomes
// "/slice/prefix-name.scope"; without one, "moat-<id>" under the caller's own cgroup. A path
// with ".." is refused. The memory limit set on the host is the spec's plus the Sentry's and
// the Gofers' own overhead (SENTRY_OVERHEAD, GOFER_OVERHEAD): the application's share is
// held to the spec's limit by the Sentry itself. Likewise the host pid limit adds the host
// threads of moat's own processes. Never moves or limits a process it did not start; removes
// only directories it created.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Resources } from '../oci/spec_resources.js';
import { SandboxError } from './errors.js';

/** Host memory a Sentry process needs beyond the application's (Node, V8, page tables). */
export const SENTRY_OVERHEAD = 128 * 1024 * 1024;
/** Host memory each Gofer process needs. */
export const GOFER_OVERHEAD = 32 * 1024 * 1024;
/** Host threads of one Node process (main, libuv pool, V8 workers) and of `unshare`. */
export const THREADS_PER_PROCESS = 16;

const CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuset', 'blkio', 'io'] as const;
type Controller = (typeof CONTROLLERS)[number];

export interface Hierarchy {
  version: 1 | 2;
  /** Where it is mounted. */
  mount: string;
  /** The cgroup the mount shows as its root (field 4 of mountinfo). */
  root: string;
  /** The controllers we use on it. */
  controllers: Controller[];
}

/** The cgroup hierarchies of this host, from /proc/self/mountinfo text. */
export function parseHierarchies(
  mountinfo: string,
  v2Controllers: (mount: string) => string[],
): Hierarchy[] {
  const out: Hierarchy[] = [];
  const taken = new Set<string>();
  const v2: Array<{ mount: string; root: string }> = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const root = left[3];
    const mount = left[4];
    const fstype = right[0];
    if (root === undefined || mount === undefined) continue;
    if (fstype === 'cgroup') {
      const opts = (right[2] ?? '').split(',');
      const ctl = CONTROLLERS.filter((c) => opts.includes(c) && !taken.has(c));
      if (ctl.length === 0) continue;
      for (const c of ctl) taken.add(c);
      out.push({ version: 1, mount, root, controllers: ctl });
    } else if (fstype === 'cgroup2') {
      v2.push({ mount, root });
    }
  }
  for (const h of v2.slice(0, 1)) {
    const have = v2Controllers(h.mount);
    const ctl = CONTROLLERS.filter((c) => have.includes(c) && !taken.has(c));
    out.push({ version: 2, mount: h.mount, root: h.root, controllers: ctl });
  }
  return out;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function hostHierarchies(): Hierarchy[] {
  return parseHierarchies(readText('/proc/self/mountinfo'), (m) =>
    readText(path.join(m, 'cgroup.controllers')).trim().split(/\s+/),
  );
}

/** This process's cgroup on a hierarchy, relative to that hierarchy's mount. */
function ownCgroup(h: Hierarchy, procCgroup: string): string {
  for (const line of procCgroup.split('\n')) {
    const [num, ctl, p] = [
      line.split(':')[0],
      line.split(':')[1],
      line.split(':').slice(2).join(':'),
    ];
    if (num === undefined || ctl === undefined || p === '') continue;
    const mine =
      h.version === 2
        ? num === '0' && ctl === ''
        : ctl.split(',').some((c) => (h.controllers as string[]).includes(c));
    if (!mine) continue;
    // A mount whose root is our own cgroup (inside a container) shows it as "/".
    const rel = h.root !== '/' && p.startsWith(h.root) ? p.slice(h.root.length) : p;
    return rel === '' ? '/' : rel;
  }
  return '/';
}

/** Where the sandbox's cgroup goes on `h`, relative to its mount (always absolute). */
export function placement(
  h: Hierarchy,
  id: string,
  cgroupsPath: string | undefined,
  procCgroup: string,
): string {
  let p: string;
  if (cgroupsPath === undefined || cgroupsPath === '') {
    p = path.posix.join(ownCgroup(h, procCgroup), `moat-${id}`);
  } else if (/^[^/:]*:[^/:]*:[^/:]+$/.test(cgroupsPath)) {
    const [slice, prefix, name] = cgroupsPath.split(':');
    p = `/${slice === '' ? 'system.slice' : slice}/${prefix === '' ? '' : `${prefix}-`}${name}.scope`;
  } else if (cgroupsPath.startsWith('/')) {
    p = cgroupsPath;
  } else {
    p = path.posix.join(ownCgroup(h, procCgroup), cgroupsPath);
  }
  if (p.split('/').includes('..')) {
    throw new SandboxError(
      'SANDBOX_START_FAILED',
      `linux.cgroupsPath "${cgroupsPath ?? ''}": ".." is not allowed`,
    );
  }
  return path.posix.normalize(p);
}

export interface SandboxCgroups {
  /** The directories moat created, deepest last per hierarchy: removed on delete. */
  created: string[];
  /** The sandbox's cgroup directory on each hierarchy. */
  dirs: string[];
  /** What could not be applied on this host (a controller it lacks), for the debug log. */
  notes: string[];
}

export interface CgroupRequest {
  id: string;
  cgroupsPath?: string;
  resources?: Resources;
  /** How many Gofer processes the sandbox has (for the host's share of overhead). */
  gofers: number;
}

function write(dir: string, file: string, value: string): void {
  try {
    fs.writeFileSync(path.join(dir, file), value);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SandboxError(
      'SANDBOX_START_FAILED',
      `cgroup ${dir}: write ${file} = ${value}: ${why}`,
      {
        cause: e,
      },
    );
  }
}

/** mkdir -p that records what it made; v1 cpuset directories inherit cpus and mems. */
function makeDirs(h: Hierarchy, rel: string, created: string[]): string {
  let cur = h.mount;
  for (const part of rel.split('/').filter(Boolean)) {
    const next = path.join(cur, part);
    if (!fs.existsSync(next)) {
      try {
        fs.mkdirSync(next);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new SandboxError('SANDBOX_START_FAILED', `cgroup: create ${next}: ${why}`, {
          cause: e,
        });
      }
      created.push(next);
      if (h.version === 1 && h.controllers.includes('cpuset')) {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          if (readText(path.join(next, f)).trim() === '')
            write(next, f, readText(path.join(cur, f)).trim());
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** Enables our controllers in each ancestor's cgroup.subtree_control (v2). */
function enableV2(h: Hierarchy, rel: string, notes: string[]): void {
  const parts = rel.split('/').filter(Boolean);
  let cur = h.mount;
  for (const part of parts) {
    for (const c of h.controllers) {
      try {
        fs.writeFileSync(path.join(cur, 'cgroup.subtree_control'), `+${c}`);
      } catch (e) {
        notes.push(
          `cgroup v2: enable ${c} in ${cur}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    cur = path.join(cur, part);
  }
}

function has(dir: string, file: string): boolean {
  return fs.existsSync(path.join(dir, file));
}

/** Host bytes for a spec memory limit: the application's plus moat's own processes'. */
export function hostMemoryLimit(limit: number, gofers: number): number {
  return limit + SENTRY_OVERHEAD + gofers * GOFER_OVERHEAD;
}

/** Host tasks for a spec pid limit: the application's threads plus moat's own. */
export function hostPidsLimit(limit: number, gofers: number): number {
  return limit + (gofers + 2) * THREADS_PER_PROCESS;
}

function applyV1(dir: string, c: Controller, r: Resources, gofers: number, notes: string[]): void {
  const m = r.memory;
  if (c === 'memory' && m !== undefined) {
    if (m.limit !== undefined && m.limit !== -1) {
      const host = hostMemoryLimit(m.limit, gofers);
      // memsw must stay >= limit: raise it first when it exists.
      const swap = m.swap !== undefined && m.swap !== -1 ? hostMemoryLimit(m.swap, gofers) : host;
      if (has(dir, 'memory.memsw.limit_in_bytes')) write(dir, 'memory.memsw.limit_in_bytes', '-1');
      write(dir, 'memory.limit_in_bytes', String(host));
      if (has(dir, 'memory.memsw.limit_in_bytes'))
        write(dir, 'memory.memsw.limit_in_bytes', String(swap));
      else if (m.swap !== undefined) notes.push('memory.swap: the host has no swap accounting');
    }
    if (m.reservation !== undefined && m.reservation !== -1) {
      write(dir, 'memory.soft_limit_in_bytes', String(m.reservation));
    }
  }
  if (c === 'pids' && r.pids !== undefined)
    write(dir, 'pids.max', String(hostPidsLimit(r.pids.limit, gofers)));
  if (c === 'cpu' && r.cpu !== undefined) {
    if (r.cpu.shares !== undefined) write(dir, 'cpu.shares', String(r.cpu.shares));
    if (r.cpu.period !== undefined) write(dir, 'cpu.cfs_period_us', String(r.cpu.period));
    if (r.cpu.quota !== undefined) write(dir, 'cpu.cfs_quota_us', String(r.cpu.quota));
  }
  if (c === 'cpuset' && r.cpu !== undefined) {
    if (r.cpu.cpus !== undefined) write(dir, 'cpuset.cpus', r.cpu.cpus);
    if (r.cpu.mems !== undefined) write(dir, 'cpuset.mems', r.cpu.mems);
  }
  if (c === 'blkio' && r.blockIO?.weight !== undefined) {
    const f = ['blkio.weight', 'blkio.bfq.weight'].find((x) => has(dir, x));
    if (f === undefined) notes.push('blockIO.weight: the host has no blkio weight control');
    else write(dir, f, String(r.blockIO.weight));
  }
}

function applyV2(dir: string, c: Controller, r: Resources, gofers: number, notes: string[]): void {
  const m = r.memory;
  if (c === 'memory' && m !== undefined) {
    if (m.limit !== undefined && m.limit !== -1) {
      write(dir, 'memory.max', String(hostMemoryLimit(m.limit, gofers)));
      if (m.swap !== undefined && has(dir, 'memory.swap.max')) {
        write(
          dir,
          'memory.swap.max',
          m.swap === -1 ? 'max' : String(Math.max(0, m.swap - m.limit)),
        );
      } else if (m.swap !== undefined) notes.push('memory.swap: the host has no swap accounting');
    }
    if (m.reservation !== undefined && m.reservation !== -1)
      write(dir, 'memory.low', String(m.reservation));
  }
  if (c === 'pids' && r.pids !== undefined)
    write(dir, 'pids.max', String(hostPidsLimit(r.pids.limit, gofers)));
  if (c === 'cpu' && r.cpu !== undefined) {
    if (r.cpu.shares !== undefined) {
      // runc's conversion of v1 shares (2..262144) to v2 weight (1..10000).
      write(dir, 'cpu.weight', String(1 + Math.floor(((r.cpu.shares - 2) * 9999) / 262142)));
    }
    if (r.cpu.quota !== undefined || r.cpu.period !== undefined) {
      const q = r.cpu.quota === undefined || r.cpu.quota === -1 ? 'max' : String(r.cpu.quota);
      write(dir, 'cpu.max', `${q} ${r.cpu.period ?? 100000}`);
    }
  }
  if (c === 'cpuset' && r.cpu !== undefined) {
    if (r.cpu.cpus !== undefined) write(dir, 'cpuset.cpus', r.cpu.cpus);
    if (r.cpu.mems !== undefined) write(dir, 'cpuset.mems', r.cpu.mems);
  }
  if (c === 'io' && r.blockIO?.weight !== undefined) {
    // v1 weights are 10..1000, v2's 1..10000.
    if (has(dir, 'io.weight')) write(dir, 'io.weight', `default ${r.blockIO.weight * 10}`);
    else notes.push('blockIO.weight: the host has no io.weight');
  }
}

/**
 * Creates the sandbox's cgroups and applies the limits. On error, removes what it created.
 * Hierarchies without a controller we use are left alone (nothing to limit there).
 */
export function createCgroups(req: CgroupRequest, hierarchies = hostHierarchies()): SandboxCgroups {
  const procCgroup = readText('/proc/self/cgroup');
  const out: SandboxCgroups = { created: [], dirs: [], notes: [] };
  const r = req.resources ?? {};
  try {
    for (const h of hierarchies) {
      if (h.controllers.length === 0) continue;
      const rel = placement(h, req.id, req.cgroupsPath, procCgroup);
      if (h.version === 2) enableV2(h, rel, out.notes);
      const dir = makeDirs(h, rel, out.created);
      out.dirs.push(dir);
      for (const c of h.controllers) {
        if (h.version === 1) applyV1(dir, c, r, req.gofers, out.notes);
        else applyV2(dir, c, r, req.gofers, out.notes);
      }
    }
    if (
      r.memory?.limit !== undefined &&
      r.memory.limit !== -1 &&
      !hierarchies.some((h) => h.controllers.includes('memory'))
    ) {
      out.notes.push(
        'memory.limit: the host has no memory controller; only the Sentry enforces it',
      );
    }
    return out;
  } catch (e) {
    removeCgroups(out.created);
    throw e;
  }
}

/** The cgroup.procs files a process writes its pid to, to join the sandbox's cgroups. */
export function procsFiles(cg: SandboxCgroups): string[] {
  return cg.dirs.map((d) => path.join(d, 'cgroup.procs'));
}

/**
 * Removes the directories moat created (deepest first). A cgroup still holding a process
 * cannot go (EBUSY): returns the ones left.
 */
export function removeCgroups(created: string[]): string[] {
  const left: string[] = [];
  for (const d of [...created].reverse()) {
    try {
      fs.rmdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d);
    }
  }
  return left;
}

/**
 * Removes the cgroups that `moat do` runs killed before they could clean up left behind:
 * empty ones named moat-do-<pid>-<hex> under this process's own cgroup whose CLI (the pid in
 * the name) is gone. A cgroup still in use is not empty, and rmdir refuses it.
 */
export function sweepStaleDoCgroups(hierarchies = hostHierarchies()): void {
  const procCgroup = readText('/proc/self/cgroup');
  for (const h of hierarchies) {
    if (h.controllers.length === 0) continue;
    const dir = path.join(h.mount, ownCgroup(h, procCgroup));
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = /^moat-do-(\d+)-[0-9a-f]+$/.exec(n);
      if (m === null || fs.existsSync(`/proc/${m[1] ?? ''}`)) continue;
      try {
        fs.rmdirSync(path.join(dir, n));
      } catch {
        // In use, or gone meanwhile.
      }
    }
  }
}
