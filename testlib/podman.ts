// Test fixture: a private podman (Debian's package) that runs moat as its OCI runtime, as a
// user would set it up, touching nothing of the host's own podman: its own --root, --runroot,
// tmp dir and containers.conf (cgroupfs, events to a file, no network), the vfs storage
// driver, and an image imported from a busybox-static tarball (no registry). moat runs through
// a small wrapper script with a state root of the fixture's own, so that a test can see what a
// container leaves behind. Lives outside test/ so that the test runner does not run it.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BUSYBOX } from './bundle.js';
import { MOAT } from './cli_moat.js';

export const IMAGE = 'localhost/moat-busybox:latest';

export interface PodmanResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface PodmanEnv {
  base: string;
  /** moat's state root, as the wrapper passes it. */
  moatRoot: string;
  /** Runs podman; `runtime` (a path, e.g. /usr/sbin/runc) replaces moat for one command. */
  run(
    args: string[],
    opts?: { input?: string; timeoutMs?: number; runtime?: string },
  ): PodmanResult;
}

/** The podman binary, or undefined when the package is not installed. */
export function findPodman(): string | undefined {
  for (const p of ['/usr/bin/podman', '/usr/local/bin/podman']) if (fs.existsSync(p)) return p;
  return undefined;
}

function writeImageTar(base: string): string {
  const img = path.join(base, 'image');
  for (const d of ['bin', 'etc', 'tmp', 'root'])
    fs.mkdirSync(path.join(img, d), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(img, 'bin/busybox'));
  fs.chmodSync(path.join(img, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n');
  for (const a of applets.filter(Boolean)) {
    const link = path.join(img, 'bin', a);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(img, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(img, 'etc/group'), 'root:x:0:\n');
  const tar = path.join(base, 'image.tar');
  execFileSync('tar', ['-C', img, '-cf', tar, '.']);
  return tar;
}

/** Sets up the private podman under `base` and imports the image. */
export function makePodmanEnv(podman: string, base: string): PodmanEnv {
  const moatRoot = path.join(base, 'moat-state');
  const wrapper = path.join(base, 'moat-runtime');
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(MOAT)} --root ${JSON.stringify(moatRoot)} "$@"\n`,
    { mode: 0o755 },
  );
  const conf = path.join(base, 'containers.conf');
  fs.writeFileSync(
    conf,
    [
      '[containers]',
      'netns = "none"',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = ${JSON.stringify(path.join(base, 'events.log'))}`,
      'runtime = "moat"',
      '[engine.runtimes]',
      `moat = [${JSON.stringify(wrapper)}]`,
      '',
    ].join('\n'),
  );
  const tmp = path.join(base, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  const global = [
    '--root',
    path.join(base, 'storage'),
    '--runroot',
    path.join(base, 'run'),
    '--tmpdir',
    tmp,
    '--storage-driver',
    'vfs',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'file',
    '--runtime',
    wrapper,
  ];
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: base,
    TMPDIR: tmp,
    CONTAINERS_CONF: conf,
    CONTAINERS_STORAGE_CONF: path.join(base, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(base, 'registries.conf'),
  };
  fs.writeFileSync(
    env.CONTAINERS_STORAGE_CONF,
    `[storage]\ndriver = "vfs"\nrunroot = ${JSON.stringify(path.join(base, 'run'))}\n` +
      `graphroot = ${JSON.stringify(path.join(base, 'storage'))}\n`,
  );
  fs.writeFileSync(env.CONTAINERS_REGISTRIES_CONF, 'unqualified-search-registries = []\n');
  const run = (
    args: string[],
    opts: { input?: string; timeoutMs?: number; runtime?: string } = {},
  ): PodmanResult => {
    // The last global flag is --runtime: another runtime (runc, to compare) replaces it.
    const g = opts.runtime === undefined ? global : [...global.slice(0, -1), opts.runtime];
    const r = spawnSync(podman, [...g, ...args], {
      env,
      cwd: base,
      input: opts.input ?? '',
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 30_000,
    });
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
  const imp = run(['import', writeImageTar(base), IMAGE]);
  if (imp.status !== 0) throw new Error(`podman import: ${imp.stderr}`);
  return { base, moatRoot, run };
}
