// Test fixture for vfs and file syscall unit tests: a task context (TestMemory, FdTable,
// FsContext, credentials) over a small tmpfs tree with files, directories and symlinks.
// Never used outside tests.

import { CAP_FULL_SET } from '../src/abi/linux/capability.js';
import { withCaps } from '../src/sentry/kernel/credentials.js';
import { S_IFREG } from '../src/abi/linux/file.js';
import { TmpfsDir, TmpfsFile, TmpfsFilesystem } from '../src/sentry/fsimpl/tmpfs/tmpfs.js';
import type { Credentials, SyscallContext } from '../src/sentry/syscalls/types.js';
import { FdTable } from '../src/sentry/vfs/fd_table.js';
import { FsContext } from '../src/sentry/vfs/fs_context.js';
import { mountRoot, newRootMount } from '../src/sentry/vfs/mount.js';
import { TestMemory } from './sentry_memory.js';

export interface TestTask extends SyscallContext {
  readonly mem: TestMemory;
  readonly files: FdTable;
  readonly fs: FsContext;
  creds: Credentials;
}

const ALL = { eff: CAP_FULL_SET, prm: CAP_FULL_SET, inh: 0n, bnd: CAP_FULL_SET, amb: 0n };
const NONE = { eff: 0n, prm: 0n, inh: 0n, bnd: CAP_FULL_SET, amb: 0n };
export const ROOT: Credentials = withCaps(
  { uid: 0, gid: 0, euid: 0, egid: 0, suid: 0, sgid: 0, groups: [] },
  ALL,
);
export const USER: Credentials = withCaps(
  { uid: 1000, gid: 1000, euid: 1000, egid: 1000, suid: 1000, sgid: 1000, groups: [] },
  NONE,
);

function file(dir: TmpfsDir, name: string, content: string, mode = 0o644): TmpfsFile {
  const f = dir.create(name, S_IFREG | mode, ROOT);
  if (!(f instanceof TmpfsFile)) throw new Error('fixture: create failed');
  f.writeAt(Buffer.from(content), 0);
  return f;
}

function dir(parent: TmpfsDir, name: string, mode = 0o755): TmpfsDir {
  const d = parent.mkdir(name, mode, ROOT);
  if (!(d instanceof TmpfsDir)) throw new Error('fixture: mkdir failed');
  return d;
}

/**
 * /etc/passwd, /etc/hosts (0600), /bin/busybox (0755), /bin/sh -> busybox, /tmp (1777),
 * /secret (0700, with /secret/key), /abs -> /etc, /rel -> etc/passwd, /loop1 <-> /loop2,
 * /dangling -> nowhere, /home/user (owned by 1000).
 */
export function makeTree(): TmpfsFilesystem {
  const fs = new TmpfsFilesystem({ mode: 0o755 });
  const r = fs.root;
  const etc = dir(r, 'etc');
  file(etc, 'passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  file(etc, 'hosts', '127.0.0.1 localhost\n', 0o600);
  const bin = dir(r, 'bin');
  file(bin, 'busybox', '\x7fELF', 0o755);
  bin.symlink('sh', 'busybox', ROOT);
  dir(r, 'tmp', 0o1777);
  const secret = dir(r, 'secret', 0o700);
  file(secret, 'key', 'k');
  r.symlink('abs', '/etc', ROOT);
  r.symlink('rel', 'etc/passwd', ROOT);
  r.symlink('loop1', 'loop2', ROOT);
  r.symlink('loop2', 'loop1', ROOT);
  r.symlink('dangling', 'nowhere', ROOT);
  const home = dir(r, 'home');
  const user = dir(home, 'user');
  user.uid = 1000;
  user.gid = 1000;
  return fs;
}

/** A task over `makeTree()` (or `fs`) with root credentials unless told. */
export function makeTask(fs: TmpfsFilesystem = makeTree(), creds: Credentials = ROOT): TestTask {
  const root = mountRoot(newRootMount(fs));
  return {
    mem: new TestMemory(),
    files: new FdTable(),
    fs: new FsContext(root),
    creds: { ...creds },
  };
}
