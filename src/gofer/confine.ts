// Confines the Gofer to the directory it serves, before it reads a single request: the root
// becomes a mount point (bind mount onto itself), read-only when asked, then pivot_root into
// it, detach the old root and chdir "/". Afterwards no path the Gofer can name — absolute, via
// "..", or via a symlink — reaches outside the served tree. It must run in a private mount
// namespace (the launcher uses `unshare --mount --propagation private`) and must never be
// skipped: main.ts refuses to serve if any step fails.

import * as fs from 'node:fs';
import { FILE_MOUNT_NAME as FILE_NAME } from '../p9/client_api.js';
import {
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_PATH,
  O_WRONLY,
  openat,
  AT_FDCWD,
  mkdirat,
} from '../host/fs.js';
import type { HostFd } from '../host/fd.js';
import {
  chdir,
  mount,
  MNT_DETACH,
  MS_BIND,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_NOSUID,
  MS_NODEV,
  MS_REMOUNT,
  pivotRoot,
  umount2,
} from '../host/mount.js';

/** Where the host's "/" is staged (inside the Gofer's private mount namespace only). */
const STAGING = '/tmp';

function mkdir(path: string, mode: number): number {
  return mkdirat(AT_FDCWD, path, mode);
}

export class ConfineError extends Error {
  readonly code = 'GOFER_CONFINE';
}

function must(r: number, what: string): void {
  if (r < 0) throw new ConfineError(`gofer: confine: ${what}: errno ${-r}`);
}

/** Confines the process to `root` (absolute) and returns an O_PATH fd of the new "/". */
export function confine(root: string, readonly: boolean): HostFd {
  if (!root.startsWith('/')) throw new ConfineError(`gofer: confine: root ${root} is not absolute`);
  // 1. No mount event of ours may propagate to the host's namespace.
  must(mount(null, '/', null, MS_REC | MS_PRIVATE), 'make / private');
  // 2. The root becomes a mount point of its own. Not recursive: mounts beneath it (for "/",
  //    the host's /proc, /sys, /dev) stay out of the container's view. The host's "/" cannot
  //    be pivoted onto itself, so it is bound onto a staging directory in a private tmpfs.
  let target = root;
  if (isRegularFile(root)) {
    // A file bind mount: a read-only staging root holding one entry, FILE_NAME, with the
    // file bound onto it. The Sentry mounts that entry over the container's file. The file is
    // held open first: the staging tmpfs may hide its path (a file under /tmp).
    const src = openat(AT_FDCWD, root, O_PATH | O_CLOEXEC);
    if (typeof src === 'number')
      throw new ConfineError(`gofer: confine: open ${root}: errno ${-src}`);
    must(
      mount('moat-gofer', STAGING, 'tmpfs', MS_NOSUID | MS_NODEV, 'size=4k,mode=0700'),
      'staging tmpfs',
    );
    target = `${STAGING}/root`;
    must(mkdir(target, 0o755), 'staging directory');
    must(mount(target, target, null, MS_BIND), 'bind the staging directory');
    const f = openat(AT_FDCWD, `${target}/${FILE_NAME}`, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600);
    if (typeof f === 'number') throw new ConfineError(`gofer: confine: staging file: errno ${-f}`);
    f.close();
    must(
      mount(null, target, null, MS_BIND | MS_REMOUNT | MS_RDONLY),
      'remount the staging directory read-only',
    );
    must(mount(`/proc/self/fd/${src.fd}`, `${target}/${FILE_NAME}`, null, MS_BIND), `bind ${root}`);
    src.close();
    if (readonly) {
      must(
        mount(null, `${target}/${FILE_NAME}`, null, MS_BIND | MS_REMOUNT | MS_RDONLY),
        `remount ${root} read-only`,
      );
    }
    return pivotInto(target);
  }
  if (root === '/') {
    must(
      mount('moat-gofer', STAGING, 'tmpfs', MS_NOSUID | MS_NODEV, 'size=4k,mode=0700'),
      'staging tmpfs',
    );
    must(mkdir(`${STAGING}/root`, 0o700), 'staging directory');
    target = `${STAGING}/root`;
  }
  must(mount(root, target, null, MS_BIND), `bind ${root}`);
  // 3. Read-only: a bind remount changes only this mount.
  if (readonly)
    must(mount(null, target, null, MS_BIND | MS_REMOUNT | MS_RDONLY), `remount ${root} read-only`);
  return pivotInto(target);
}

function isRegularFile(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

/** pivot_root(".", ".") into `target`: the old root is stacked on the new one, then detached. */
function pivotInto(target: string): HostFd {
  must(chdir(target), `chdir ${target}`);
  must(pivotRoot('.', '.'), 'pivot_root');
  must(umount2('.', MNT_DETACH), 'detach the old root');
  must(chdir('/'), 'chdir /');
  const fd = openat(AT_FDCWD, '/', O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (typeof fd === 'number') throw new ConfineError(`gofer: confine: open /: errno ${-fd}`);
  return fd;
}
