// Test fixture: an OCI bundle whose root file system is Debian's busybox-static, with the
// applet links, /etc/passwd and /etc/group, and a config.json like `runc spec` makes (no
// terminal). Used by the lifecycle, conformance and benchmark suites to run the same bundle
// under moat, runc and runsc; bundleConfig alone serves fixtures that bring a root file system
// of their own (debian_rootfs.ts). Lives outside test/ so that the test runner does not run it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

export const BUSYBOX = '/bin/busybox';

export interface BundleOptions {
  args: string[];
  env?: string[];
  cwd?: string;
  readonlyRoot?: boolean;
  hostname?: string;
  /** Extra files to copy into the rootfs: [hostPath, pathInRootfs]. */
  files?: Array<[string, string]>;
  /** Extra OCI mounts appended to the default ones. */
  mounts?: Array<Record<string, unknown>>;
  /** process.user (default root). */
  user?: { uid: number; gid: number };
}

/** Creates `dir/rootfs` and `dir/config.json`; returns dir. */
export function makeBusyboxBundle(dir: string, opts: BundleOptions): string {
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'dev', 'sys', 'root', 'usr/bin', 'var']) {
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  }
  fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (const a of applets) {
    const link = path.join(rootfs, 'bin', a);
    if (a !== 'busybox' && !fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(
    path.join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  fs.writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  fs.writeFileSync(path.join(rootfs, 'etc/hostname'), `${opts.hostname ?? 'moat'}\n`);
  for (const [from, to] of opts.files ?? []) {
    const dest = path.join(rootfs, to);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(from, dest);
    fs.chmodSync(dest, fs.statSync(from).mode & 0o7777);
  }
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(bundleConfig(opts), null, 2));
  return dir;
}

/**
 * The config.json of a bundle, like `runc spec` makes (no terminal), for `opts`; `rootPath` is
 * root.path, relative to the bundle or absolute (a root file system used in place).
 */
export function bundleConfig(opts: BundleOptions, rootPath = 'rootfs'): Record<string, unknown> {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: opts.user ?? { uid: 0, gid: 0 },
      args: opts.args,
      env: opts.env ?? ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: opts.cwd ?? '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootPath, readonly: opts.readonlyRoot ?? true },
    hostname: opts.hostname ?? 'moat',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/sys',
        type: 'sysfs',
        source: 'sysfs',
        options: ['nosuid', 'noexec', 'nodev', 'ro'],
      },
      ...(opts.mounts ?? []),
    ],
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'network' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
      ],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** A fresh temporary directory under /tmp for one test; the caller removes it. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join('/tmp', `moat-${prefix}-`));
}
