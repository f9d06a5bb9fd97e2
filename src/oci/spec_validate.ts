// Parses and validates an OCI runtime-spec config.json (runtime-spec config.md, 1.0–1.2)
// into a typed `Spec`. Input is hostile: every failure is an OciError OCI_INVALID_SPEC whose
// message names the field path and the reason (`config.json: process.args: must be a
// non-empty array of strings`); nothing else may escape. Unknown fields are ignored, as the
// spec allows; values moat cannot honour (a terminal, joining existing namespaces) are
// rejected here rather than silently dropped. Never touches the disk.

import { OciError } from './errors.js';
import { jsonErrorOffset } from './json_error_offset.js';
import { parseResources } from './spec_resources.js';
import type {
  NamespaceType,
  Spec,
  SpecCapabilities,
  SpecIdMapping,
  SpecLinux,
  SpecMount,
  SpecNamespace,
  SpecProcess,
  SpecRlimit,
  SpecRoot,
  SpecSeccomp,
  SpecSeccompSyscall,
  SpecUser,
} from './spec_types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const FILE = 'config.json';
const MAX_ID = 0xffff_ffff;

export const RLIMIT_NAMES: readonly string[] = [
  'RLIMIT_CPU',
  'RLIMIT_FSIZE',
  'RLIMIT_DATA',
  'RLIMIT_STACK',
  'RLIMIT_CORE',
  'RLIMIT_RSS',
  'RLIMIT_NPROC',
  'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK',
  'RLIMIT_AS',
  'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
];

const NAMESPACE_TYPES: readonly NamespaceType[] = [
  'pid',
  'network',
  'mount',
  'ipc',
  'uts',
  'user',
  'cgroup',
  'time',
];

const SECCOMP_ACTIONS: readonly string[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];

const SECCOMP_OPS: readonly string[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

function fail(path: string, reason: string): never {
  throw new OciError('OCI_INVALID_SPEC', `${FILE}: ${path}: ${reason}`);
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: Json | undefined, path: string): JsonObject {
  if (!isObject(v)) fail(path, 'must be an object');
  return v;
}

function string(v: Json | undefined, path: string): string {
  if (typeof v !== 'string') fail(path, 'must be a string');
  return v;
}

function boolean(v: Json | undefined, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'must be a boolean');
  return v;
}

function integer(v: Json | undefined, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(path, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** A 64-bit unsigned value; JSON numbers past 2^53 lose precision, which is fine for limits. */
function uint64(v: Json | undefined, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || Math.floor(v) !== v) {
    fail(path, 'must be a non-negative integer');
  }
  return v;
}

function stringArray(v: Json | undefined, path: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    fail(path, 'must be an array of strings');
  }
  return v;
}

function array(v: Json | undefined, path: string): Json[] {
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return v;
}

function optional<T>(o: JsonObject, key: string, path: string, f: (v: Json, p: string) => T) {
  const v = o[key];
  return v === undefined ? undefined : f(v, `${path}${key}`);
}

function absolutePath(v: Json | undefined, path: string): string {
  const s = string(v, path);
  if (!s.startsWith('/')) fail(path, 'must be an absolute path');
  if (s.includes('\0')) fail(path, 'must not contain a NUL byte');
  return s;
}

function checkVersion(v: Json | undefined): string {
  if (v === undefined) fail('ociVersion', 'is required');
  const s = string(v, 'ociVersion');
  const m = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(s);
  if (m === null) fail('ociVersion', `"${s}" is not a semantic version`);
  if (m[1] !== '1') fail('ociVersion', `unsupported major version in "${s}" (moat supports 1.x)`);
  return s;
}

function checkUser(v: Json | undefined, path: string): SpecUser {
  const o = object(v, path);
  const user: SpecUser = {
    uid: integer(o.uid, `${path}.uid`, 0, MAX_ID),
    gid: integer(o.gid, `${path}.gid`, 0, MAX_ID),
  };
  const umask = optional(o, 'umask', `${path}.`, (x, p) => integer(x, p, 0, 0o777));
  if (umask !== undefined) user.umask = umask;
  const gids = optional(o, 'additionalGids', `${path}.`, (x, p) =>
    array(x, p).map((g, i) => integer(g, `${p}[${i}]`, 0, MAX_ID)),
  );
  if (gids !== undefined) user.additionalGids = gids;
  const name = optional(o, 'username', `${path}.`, string);
  if (name !== undefined) user.username = name;
  return user;
}

function checkCapabilities(v: Json, path: string): SpecCapabilities {
  const o = object(v, path);
  const caps: SpecCapabilities = {};
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
    const list = optional(o, set, `${path}.`, stringArray);
    if (list === undefined) continue;
    list.forEach((c, i) => {
      if (!/^CAP_[A-Z_]+$/.test(c)) fail(`${path}.${set}[${i}]`, `"${c}" is not a capability name`);
    });
    caps[set] = list;
  }
  return caps;
}

function checkRlimits(v: Json, path: string): SpecRlimit[] {
  const seen = new Set<string>();
  return array(v, path).map((item, i) => {
    const p = `${path}[${i}]`;
    const o = object(item, p);
    const type = string(o.type, `${p}.type`);
    if (!RLIMIT_NAMES.includes(type)) fail(`${p}.type`, `unknown resource limit "${type}"`);
    if (seen.has(type)) fail(`${p}.type`, `"${type}" is set twice`);
    seen.add(type);
    const soft = uint64(o.soft, `${p}.soft`);
    const hard = uint64(o.hard, `${p}.hard`);
    if (soft > hard) fail(p, 'soft limit is above the hard limit');
    return { type, soft, hard };
  });
}

function checkEnv(v: Json | undefined, path: string): string[] {
  if (v === undefined) return [];
  const env = stringArray(v, path);
  env.forEach((e, i) => {
    const eq = e.indexOf('=');
    if (eq <= 0) fail(`${path}[${i}]`, 'must have the form KEY=value');
    if (e.includes('\0')) fail(`${path}[${i}]`, 'must not contain a NUL byte');
  });
  return env;
}

function checkProcess(v: Json | undefined): SpecProcess {
  if (v === undefined) fail('process', 'is required');
  const o = object(v, 'process');
  const terminal = o.terminal === undefined ? false : boolean(o.terminal, 'process.terminal');
  if (terminal) fail('process.terminal', 'terminals are not supported yet (set it to false)');
  const args = o.args;
  if (!Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === 'string')) {
    fail('process.args', 'must be a non-empty array of strings');
  }
  const argv = args;
  if (argv.some((a) => a.includes('\0'))) fail('process.args', 'must not contain a NUL byte');
  if (argv[0] === '') fail('process.args[0]', 'must not be empty');
  if (o.user === undefined) fail('process.user', 'is required');
  if (o.cwd === undefined) fail('process.cwd', 'is required');
  const proc: SpecProcess = {
    terminal,
    user: checkUser(o.user, 'process.user'),
    args: argv,
    env: checkEnv(o.env, 'process.env'),
    cwd: absolutePath(o.cwd, 'process.cwd'),
    noNewPrivileges:
      o.noNewPrivileges === undefined
        ? false
        : boolean(o.noNewPrivileges, 'process.noNewPrivileges'),
  };
  const caps = optional(o, 'capabilities', 'process.', checkCapabilities);
  if (caps !== undefined) proc.capabilities = caps;
  const rlimits = optional(o, 'rlimits', 'process.', checkRlimits);
  if (rlimits !== undefined) proc.rlimits = rlimits;
  const oom = optional(o, 'oomScoreAdj', 'process.', (x, p) => integer(x, p, -1000, 1000));
  if (oom !== undefined) proc.oomScoreAdj = oom;
  const apparmor = optional(o, 'apparmorProfile', 'process.', string);
  if (apparmor !== undefined) proc.apparmorProfile = apparmor;
  const selinux = optional(o, 'selinuxLabel', 'process.', string);
  if (selinux !== undefined) proc.selinuxLabel = selinux;
  return proc;
}

function checkRoot(v: Json | undefined): SpecRoot {
  if (v === undefined) fail('root', 'is required');
  const o = object(v, 'root');
  const p = string(o.path, 'root.path');
  if (p === '') fail('root.path', 'must not be empty');
  if (p.includes('\0')) fail('root.path', 'must not contain a NUL byte');
  const readonly = o.readonly === undefined ? false : boolean(o.readonly, 'root.readonly');
  return { path: p, readonly };
}

function checkMounts(v: Json | undefined): SpecMount[] {
  if (v === undefined) return [];
  return array(v, 'mounts').map((item, i) => {
    const p = `mounts[${i}]`;
    const o = object(item, p);
    const m: SpecMount = { destination: absolutePath(o.destination, `${p}.destination`) };
    const type = optional(o, 'type', `${p}.`, string);
    if (type !== undefined) m.type = type;
    const source = optional(o, 'source', `${p}.`, string);
    if (source !== undefined) m.source = source;
    const options = optional(o, 'options', `${p}.`, stringArray);
    if (options !== undefined) m.options = options;
    return m;
  });
}

function checkNamespaces(v: Json, path: string): SpecNamespace[] {
  const seen = new Set<string>();
  return array(v, path).map((item, i) => {
    const p = `${path}[${i}]`;
    const o = object(item, p);
    const type = string(o.type, `${p}.type`);
    if (!(NAMESPACE_TYPES as readonly string[]).includes(type)) {
      fail(`${p}.type`, `unknown namespace type "${type}"`);
    }
    if (seen.has(type)) fail(`${p}.type`, `namespace "${type}" is listed twice`);
    seen.add(type);
    if (o.path !== undefined) {
      string(o.path, `${p}.path`);
      fail(`${p}.path`, 'joining an existing namespace is not supported (the sandbox has its own)');
    }
    return { type: type as NamespaceType };
  });
}

function checkIdMappings(v: Json, path: string): SpecIdMapping[] {
  return array(v, path).map((item, i) => {
    const p = `${path}[${i}]`;
    const o = object(item, p);
    return {
      containerID: integer(o.containerID, `${p}.containerID`, 0, MAX_ID),
      hostID: integer(o.hostID, `${p}.hostID`, 0, MAX_ID),
      size: integer(o.size, `${p}.size`, 1, MAX_ID),
    };
  });
}

function checkSeccompAction(v: Json | undefined, path: string): string {
  const a = string(v, path);
  if (!SECCOMP_ACTIONS.includes(a)) fail(path, `unknown seccomp action "${a}"`);
  return a;
}

function checkSeccompSyscall(item: Json, p: string): SpecSeccompSyscall {
  const o = object(item, p);
  const names = stringArray(o.names, `${p}.names`);
  if (names.length === 0) fail(`${p}.names`, 'must not be empty');
  const rule: SpecSeccompSyscall = { names, action: checkSeccompAction(o.action, `${p}.action`) };
  const errnoRet = optional(o, 'errnoRet', `${p}.`, (x, q) => integer(x, q, 0, 4095));
  if (errnoRet !== undefined) rule.errnoRet = errnoRet;
  const args = optional(o, 'args', `${p}.`, (x, q) =>
    array(x, q).map((a, j) => {
      const ap = `${q}[${j}]`;
      const ao = object(a, ap);
      const op = string(ao.op, `${ap}.op`);
      if (!SECCOMP_OPS.includes(op)) fail(`${ap}.op`, `unknown comparison "${op}"`);
      const arg: { index: number; value: number; valueTwo?: number; op: string } = {
        index: integer(ao.index, `${ap}.index`, 0, 5),
        value: uint64(ao.value, `${ap}.value`),
        op,
      };
      const two = optional(ao, 'valueTwo', `${ap}.`, uint64);
      if (two !== undefined) arg.valueTwo = two;
      return arg;
    }),
  );
  if (args !== undefined) rule.args = args;
  return rule;
}

function checkSeccomp(v: Json, path: string): SpecSeccomp {
  const o = object(v, path);
  const sc: SpecSeccomp = {
    defaultAction: checkSeccompAction(o.defaultAction, `${path}.defaultAction`),
  };
  const der = optional(o, 'defaultErrnoRet', `${path}.`, (x, p) => integer(x, p, 0, 4095));
  if (der !== undefined) sc.defaultErrnoRet = der;
  const arches = optional(o, 'architectures', `${path}.`, stringArray);
  if (arches !== undefined) sc.architectures = arches;
  const flags = optional(o, 'flags', `${path}.`, stringArray);
  if (flags !== undefined) sc.flags = flags;
  const rules = optional(o, 'syscalls', `${path}.`, (x, p) =>
    array(x, p).map((r, i) => checkSeccompSyscall(r, `${p}[${i}]`)),
  );
  if (rules !== undefined) sc.syscalls = rules;
  return sc;
}

function checkStringMap(v: Json, path: string): Record<string, string> {
  const o = object(v, path);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) out[k] = string(x, `${path}.${k}`);
  return out;
}

function checkPathList(v: Json, path: string): string[] {
  const list = stringArray(v, path);
  list.forEach((s, i) => absolutePath(s, `${path}[${i}]`));
  return list;
}

function checkLinux(v: Json): SpecLinux {
  const o = object(v, 'linux');
  const linux: SpecLinux = {};
  const ns = optional(o, 'namespaces', 'linux.', checkNamespaces);
  if (ns !== undefined) linux.namespaces = ns;
  const uids = optional(o, 'uidMappings', 'linux.', checkIdMappings);
  if (uids !== undefined) linux.uidMappings = uids;
  const gids = optional(o, 'gidMappings', 'linux.', checkIdMappings);
  if (gids !== undefined) linux.gidMappings = gids;
  const res = optional(o, 'resources', 'linux.', parseResources);
  if (res !== undefined) linux.resources = res;
  const cg = optional(o, 'cgroupsPath', 'linux.', string);
  if (cg !== undefined) linux.cgroupsPath = cg;
  const masked = optional(o, 'maskedPaths', 'linux.', checkPathList);
  if (masked !== undefined) linux.maskedPaths = masked;
  const ro = optional(o, 'readonlyPaths', 'linux.', checkPathList);
  if (ro !== undefined) linux.readonlyPaths = ro;
  const sc = optional(o, 'seccomp', 'linux.', checkSeccomp);
  if (sc !== undefined) linux.seccomp = sc;
  const sysctl = optional(o, 'sysctl', 'linux.', checkStringMap);
  if (sysctl !== undefined) linux.sysctl = sysctl;
  const prop = optional(o, 'rootfsPropagation', 'linux.', string);
  if (prop !== undefined) {
    const ok = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable'];
    if (!ok.includes(prop)) fail('linux.rootfsPropagation', `unknown propagation "${prop}"`);
    linux.rootfsPropagation = prop;
  }
  const label = optional(o, 'mountLabel', 'linux.', string);
  if (label !== undefined) linux.mountLabel = label;
  return linux;
}

function checkHostname(v: Json, path: string): string {
  const h = string(v, path);
  if (h.length > 64) fail(path, 'must be at most 64 bytes');
  if (h.includes('\0') || h.includes('/')) fail(path, 'must not contain "/" or a NUL byte');
  return h;
}

/** Validates an already parsed config.json value. */
export function validateSpec(value: unknown): Spec {
  const top = object(value as Json, '(top level)');
  const spec: Spec = {
    ociVersion: checkVersion(top.ociVersion),
    process: checkProcess(top.process),
    root: checkRoot(top.root),
    mounts: checkMounts(top.mounts),
    annotations:
      top.annotations === undefined ? {} : checkStringMap(top.annotations, 'annotations'),
  };
  const hostname = optional(top, 'hostname', '', checkHostname);
  if (hostname !== undefined) spec.hostname = hostname;
  const domain = optional(top, 'domainname', '', checkHostname);
  if (domain !== undefined) spec.domainname = domain;
  if (top.linux !== undefined) spec.linux = checkLinux(top.linux);
  return spec;
}

/** Line and column (1-based) of a character offset in text. */
function lineColumn(text: string, pos: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  return `line ${line}, column ${col}`;
}

/** Parses config.json text; malformed JSON is reported with its position. */
export function parseSpec(text: string): Spec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const where = lineColumn(text, jsonErrorOffset(text));
    throw new OciError('OCI_INVALID_SPEC', `${FILE}: invalid JSON at ${where}: ${why}`, {
      cause: e,
    });
  }
  return validateSpec(value);
}
