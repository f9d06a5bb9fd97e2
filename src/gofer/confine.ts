// Confines the Gofer to the directory it serves, before it reads a single request: the root
// becomes a mount point (bind mount onto itself), read-only when asked, then pivot_root into
// it, detach the old root and chdir "/". Afterwards no path the Gofer can name — absolute, via
// "..", or via a symlink — reaches outside the served tree. It must run in a private mount
// namespace (the launcher uses `unshare --mount --propagation private`) and must never be
// skipped: main.ts refuses to serve if any step fails.

import { O_CLOEXEC, O_DIRECTORY, O_PATH, openat, AT_FDCWD, mkdirat } from '../host/fs.js';
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
  // 4. pivot_root(".", "."): the old root is stacked on top of the new one, then detached.
  must(chdir(target), `chdir ${target}`);
  must(pivotRoot('.', '.'), 'pivot_root');
  must(umount2('.', MNT_DETACH), 'detach the old root');
  must(chdir('/'), 'chdir /');
  const fd = openat(AT_FDCWD, '/', O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (typeof fd === 'number') throw new ConfineError(`gofer: confine: open /: errno ${-fd}`);
  return fd;
}
