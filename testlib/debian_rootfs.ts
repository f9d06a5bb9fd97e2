// Test fixture: a Debian 12 (bookworm) root file system made by `debootstrap --variant=minbase`
// with python3 and sqlite3, built once and cached outside the repository, and OCI bundles that
// use that tree in place. Suites that run real programs (an interpreter, a database) under runc
// and under moat build on it.
//
// It must never leave a half-built cache, let two processes build at once, write into a cached
// tree, or name an archive host of its own. The mechanism:
// - the cache is CACHE_ROOT/debian12-minbase-<hash of suite, variant and packages>; a build goes
//   to a temporary directory beside it (same file system) and is renamed into place only when
//   complete, so a build killed at any point leaves at most a `.…build-…` leftover, which the
//   next build unmounts and removes;
// - the build runs in a child, this very module run as `--build`, under flock(1) on a lock file
//   beside the cache: the kernel drops the lock when its holder dies, so a killed build never
//   blocks the next one, and a process that waited finds the finished tree and builds nothing;
// - the archive is the one the host's apt uses (its sources lists: the entry for the bookworm
//   suite), or MOAT_DEBIAN_MIRROR when set;
// - bundles name the cached tree by its absolute path as a read-only root (OCI root.readonly)
//   and get their writable places as mounts: tmpfs on /tmp and /dev/shm, and optionally a bind
//   mount of a host directory of the caller's at /work (its mount point is made at build time).
// The only mutable state is this process's memo of the answer. Lives outside test/ so that the
// test runner does not run it as a test.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleConfig, type BundleOptions } from './bundle.js';

export const DEBIAN_SUITE = 'bookworm';
export const DEBIAN_VARIANT = 'minbase';
export const DEBIAN_PACKAGES: readonly string[] = ['python3', 'sqlite3'];
/** Bumped when the finishing steps change what a built tree holds, so that a new one is made. */
const FIXTURE_VERSION = 1;
/** Where cached trees live: outside the repository, kept across checkouts. */
export const CACHE_ROOT = process.env['MOAT_TEST_CACHE'] ?? '/var/cache/moat-test';
/** How long one build may take, and so how long a second process waits for the lock. */
const BUILD_TIMEOUT_MS = 30 * 60_000;
/** Mount points made in the tree at build time, so that no runtime writes into the cache. */
const MOUNT_POINTS = ['work', 'tmp', 'proc', 'dev', 'sys'];

const THIS_FILE = fileURLToPath(import.meta.url);

/** debian12-minbase-<first 12 hex digits of the sha256 of what the tree is made of>. */
export function fixtureName(): string {
  const key = JSON.stringify({
    version: FIXTURE_VERSION,
    suite: DEBIAN_SUITE,
    variant: DEBIAN_VARIANT,
    packages: [...DEBIAN_PACKAGES].sort(),
  });
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return `debian12-${DEBIAN_VARIANT}-${hash}`;
}

/** One `deb` entry of apt's sources lists (one line, or one deb822 stanza per URI). */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  /** Signed-By / signed-by when it names a key file. */
  signedBy: string | undefined;
  file: string;
}

/** The one-line format of sources.list(5): `deb [opt=value …] uri suite [component …]`. */
export function parseOneLineSources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const opts = /^deb\s+\[([^\]]*)\]\s*(.*)$/.exec(line);
    const rest = opts !== null ? opts[2] : /^deb\s+(.*)$/.exec(line)?.[1];
    if (rest === undefined) continue;
    const [uri, suite, ...components] = rest.split(/\s+/);
    if (uri === undefined || suite === undefined) continue;
    const signed = /(?:^|\s)signed-by=(\S+)/.exec(opts?.[1] ?? '')?.[1];
    out.push({ uri, suites: [suite], components, signedBy: signed, file });
  }
  return out;
}

/** The deb822 format of sources.list(5): stanzas of `Field: value`, blank-line separated. */
export function parseDeb822Sources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  const lines = text.split('\n').filter((l) => !l.startsWith('#'));
  for (const stanza of lines.join('\n').split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let last = '';
    for (const l of stanza.split('\n')) {
      if (/^[ \t]/.test(l) && last !== '') {
        fields.set(last, `${fields.get(last) ?? ''}\n${l.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(l);
      if (m?.[1] === undefined || m[2] === undefined) continue;
      last = m[1].toLowerCase();
      fields.set(last, m[2].trim());
    }
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb')) continue;
    if (fields.get('enabled')?.toLowerCase() === 'no') continue;
    const signed = fields.get('signed-by');
    const signedBy = signed !== undefined && !signed.includes('\n') ? signed : undefined;
    for (const uri of words('uris')) {
      out.push({ uri, suites: words('suites'), components: words('components'), signedBy, file });
    }
  }
  return out;
}

/** apt's sources as apt reads them: sources.list, then sources.list.d/ in name order. */
export function aptSources(etcApt = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const read = (file: string): string | undefined => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  const main = path.join(etcApt, 'sources.list');
  out.push(...parseOneLineSources(read(main) ?? '', main));
  const dir = path.join(etcApt, 'sources.list.d');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith('.list')) out.push(...parseOneLineSources(read(file) ?? '', file));
    if (name.endsWith('.sources')) out.push(...parseDeb822Sources(read(file) ?? '', file));
  }
  return out;
}

export interface DebianMirror {
  uri: string;
  /** The key file apt checks this archive with, when its entry names one that exists. */
  keyring: string | undefined;
}

/** The Debian archive this host's apt uses for bookworm (MOAT_DEBIAN_MIRROR overrides it). */
export function debianMirror(): DebianMirror | { skip: string } {
  const forced = process.env['MOAT_DEBIAN_MIRROR'];
  if (forced !== undefined && forced !== '') return { uri: forced, keyring: undefined };
  const src = aptSources().find(
    (s) =>
      s.suites.includes(DEBIAN_SUITE) &&
      /^(https?|file):/.test(s.uri) &&
      (s.components.length === 0 || s.components.includes('main')),
  );
  if (src === undefined) {
    return {
      skip: `no apt source of this host serves Debian ${DEBIAN_SUITE} main over http(s) or file (set MOAT_DEBIAN_MIRROR)`,
    };
  }
  const keyring =
    src.signedBy !== undefined && fs.existsSync(src.signedBy) ? src.signedBy : undefined;
  return { uri: src.uri, keyring };
}

/** Whether `final` is a finished tree: only a complete build is ever renamed to its name. */
function isBuilt(final: string): boolean {
  return (
    fs.existsSync(path.join(final, 'usr/bin/python3')) &&
    fs.existsSync(path.join(final, 'usr/bin/sqlite3'))
  );
}

function haveProgram(name: string): boolean {
  return (process.env['PATH'] ?? '')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((d) => d !== '' && fs.existsSync(path.join(d, name)));
}

/**
 * debootstrap's complaints that mean the archive could not be reached (as opposed to a broken
 * build, which is an error of the fixture and fails the suite).
 */
const UNREACHABLE =
  /Failed getting release file|Couldn't download|Failed to download|Temporary failure in name resolution|Could not resolve|unable to resolve|Connection refused|Connection timed out|Network is unreachable|No route to host|Invalid Release signature/i;

let memo: string | { skip: string } | undefined;

/**
 * The cached Debian 12 rootfs (an absolute path), built first when missing; or why it cannot be
 * had here: not root, no debootstrap or flock, no Debian archive among the host's apt sources,
 * or the archive unreachable. Throws when a build fails for another reason. The first call may
 * take minutes (the build, or waiting for another process's); later ones answer at once.
 */
export function debianRootfs(): string | { skip: string } {
  memo ??= prepare();
  return memo;
}

function prepare(): string | { skip: string } {
  const final = path.join(CACHE_ROOT, fixtureName());
  if (isBuilt(final)) return final;
  if (process.getuid?.() !== 0) return { skip: `${final} is missing and debootstrap needs root` };
  for (const prog of ['debootstrap', 'flock']) {
    if (!haveProgram(prog)) {
      return { skip: `${final} is missing and ${prog} is not installed (scripts/setup.sh)` };
    }
  }
  const mirror = debianMirror();
  if ('skip' in mirror) return mirror;
  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  const lock = path.join(CACHE_ROOT, `${fixtureName()}.lock`);
  const r = spawnSync(
    'flock',
    [
      '--wait',
      String(BUILD_TIMEOUT_MS / 1000),
      lock,
      process.execPath,
      THIS_FILE,
      '--build',
      final,
      mirror.uri,
      mirror.keyring ?? '',
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 2 * BUILD_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    },
  );
  if (isBuilt(final)) return final;
  const why = [r.error?.message, r.stderr.trim(), r.stdout.trim()]
    .filter((s) => s !== undefined && s !== '')
    .join('; ');
  if (UNREACHABLE.test(why)) {
    return { skip: `debootstrap cannot reach the Debian archive ${mirror.uri}: ${why}` };
  }
  throw new Error(
    `build the Debian rootfs ${final} from ${mirror.uri}: exit status ${String(r.status)}: ${why}`,
  );
}

/** Mount points at or below `dir`, deepest first (mountinfo escapes blanks as octal). */
function mountsBelow(dir: string): string[] {
  const unescape = (s: string): string =>
    s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const mp = unescape(field);
    if (mp === dir || mp.startsWith(`${dir}/`)) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/**
 * Removes what a killed build left: first the file systems debootstrap mounts in its target
 * (proc, sys, and /dev bound from the host inside a container), so that removing the tree can
 * never reach the host's; then the tree, never crossing into another file system.
 */
function removeLeftover(dir: string): void {
  for (const mp of mountsBelow(dir)) spawnSync('umount', ['--lazy', mp], { stdio: 'ignore' });
  spawnSync('rm', ['-rf', '--one-file-system', dir], { stdio: 'ignore' });
}

/** Last lines of debootstrap's log that say what went wrong (its E: and W: lines first). */
function logTail(log: string): string {
  let text = '';
  try {
    text = fs.readFileSync(log, 'utf8');
  } catch {
    return '(no log)';
  }
  const lines = text.trim().split('\n');
  const marked = lines.filter((l) => /^[EW]: /.test(l));
  return (marked.length > 0 ? marked : lines).slice(-6).join(' | ');
}

/**
 * The build itself, run under the lock: nothing when another process finished the tree while
 * this one waited; else 1. remove leftovers of killed builds, 2. debootstrap into a fresh
 * temporary directory beside the cache, 3. drop the downloaded packages, make the mount points
 * and record what the tree is, 4. check nothing is still mounted in it, 5. rename it into place.
 */
function build(final: string, mirror: string, keyring: string): void {
  if (isBuilt(final)) return;
  const dir = path.dirname(final);
  const prefix = `.${path.basename(final)}.build-`;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(prefix)) removeLeftover(path.join(dir, name));
  }
  const tmp = fs.mkdtempSync(path.join(dir, prefix));
  const log = `${final}.log`;
  const logFd = fs.openSync(log, 'w');
  const args = [
    `--variant=${DEBIAN_VARIANT}`,
    `--include=${DEBIAN_PACKAGES.join(',')}`,
    ...(keyring !== '' ? [`--keyring=${keyring}`] : []),
    DEBIAN_SUITE,
    tmp,
    mirror,
  ];
  const started = Date.now();
  const r = spawnSync('debootstrap', args, {
    stdio: ['ignore', logFd, logFd],
    timeout: BUILD_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  fs.closeSync(logFd);
  if (r.status !== 0) {
    removeLeftover(tmp);
    const how = r.error !== undefined ? r.error.message : `exit status ${String(r.status)}`;
    throw new Error(`debootstrap ${args.join(' ')}: ${how}: ${logTail(log)} (log: ${log})`);
  }
  fs.chmodSync(tmp, 0o755); // mkdtemp made it 0700; a root directory is 0755
  const debs = path.join(tmp, 'var/cache/apt/archives');
  for (const name of fs.readdirSync(debs)) {
    if (name.endsWith('.deb')) fs.rmSync(path.join(debs, name)); // downloaded, installed: dead weight
  }
  for (const mp of MOUNT_POINTS) fs.mkdirSync(path.join(tmp, mp), { recursive: true });
  fs.chmodSync(path.join(tmp, 'tmp'), 0o1777);
  const info = {
    suite: DEBIAN_SUITE,
    variant: DEBIAN_VARIANT,
    packages: DEBIAN_PACKAGES,
    mirror,
    builtAt: new Date().toISOString(),
    buildSeconds: Math.round((Date.now() - started) / 1000),
  };
  fs.writeFileSync(path.join(tmp, 'etc/moat-fixture.json'), `${JSON.stringify(info, null, 2)}\n`);
  const mounted = mountsBelow(tmp);
  if (mounted.length > 0) {
    removeLeftover(tmp);
    throw new Error(`debootstrap left file systems mounted: ${mounted.join(', ')}`);
  }
  fs.renameSync(tmp, final);
}

// `node debian_rootfs.js --build <final> <mirror> <keyring or ''>`: the child prepare() runs
// under flock(1). Importing the module never gets here.
if (process.argv[1] === THIS_FILE && process.argv[2] === '--build') {
  const [final, mirror, keyring] = process.argv.slice(3);
  try {
    if (final === undefined || mirror === undefined) throw new Error('usage: --build FINAL MIRROR');
    build(final, mirror, keyring ?? '');
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}

export interface RootfsBundleOptions {
  /** The bundle directory to write config.json into (created); the caller removes it. */
  bundleDir: string;
  /** A host directory bind-mounted writable at /work. */
  workDir?: string;
  env?: string[];
  cwd?: string;
  hostname?: string;
}

/** The environment a login shell of root would have, in the C.UTF-8 locale. */
export const DEBIAN_ENV: readonly string[] = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'HOME=/root',
  'LANG=C.UTF-8',
  'TERM=xterm',
];

/**
 * An OCI bundle whose root is `rootfs` itself, by absolute path, read-only: nothing is copied,
 * and the programs write only to tmpfs /tmp and /dev/shm (POSIX shared memory and semaphores
 * live there) and to `opts.workDir` at /work. Returns the bundle directory.
 */
export function bundleFromRootfs(
  rootfs: string,
  args: string[],
  opts: RootfsBundleOptions,
): string {
  const tmpfs = (destination: string, extra: string[]): Record<string, unknown> => ({
    destination,
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k', ...extra],
  });
  const mounts: Array<Record<string, unknown>> = [tmpfs('/tmp', []), tmpfs('/dev/shm', ['noexec'])];
  if (opts.workDir !== undefined) {
    mounts.push({
      destination: '/work',
      type: 'bind',
      source: opts.workDir,
      options: ['rbind', 'rw'],
    });
  }
  const bundle: BundleOptions = {
    args,
    env: opts.env ?? [...DEBIAN_ENV],
    cwd: opts.cwd ?? '/',
    readonlyRoot: true,
    mounts,
    ...(opts.hostname !== undefined ? { hostname: opts.hostname } : {}),
  };
  fs.mkdirSync(opts.bundleDir, { recursive: true });
  fs.writeFileSync(
    path.join(opts.bundleDir, 'config.json'),
    JSON.stringify(bundleConfig(bundle, rootfs), null, 2),
  );
  return opts.bundleDir;
}
