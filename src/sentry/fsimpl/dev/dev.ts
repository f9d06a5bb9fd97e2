// The minimal /dev: null, zero, full, random and urandom as character devices on a tmpfs
// (mode 0755 root directory, nodes 0666), with Linux's device numbers (1:3, 1:5, 1:7, 1:8,
// 1:9); the fd, stdin, stdout and stderr links into /proc/self/fd; empty shm (1777) and pts. Randomness comes from Node's synchronous CSPRNG; nothing touches host devices.
// Never throws.

import { CAP_FULL_SET } from '../../../abi/linux/capability.js';
import { withCaps } from '../../kernel/credentials.js';
import { randomFillSync } from 'node:crypto';
import { Errno } from '../../../abi/linux/errno.js';
import { makeDev } from '../../../abi/linux/file.js';
import type { Credentials } from '../../syscalls/types.js';
import type { FileImpl } from '../../vfs/inode.js';
import { TmpfsFilesystem } from '../tmpfs/tmpfs.js';

function charDev(read: (dst: Uint8Array) => number, write: (src: Uint8Array) => number): FileImpl {
  return { seekable: true, read, write, release: () => undefined };
}

const nullDev = (): FileImpl =>
  charDev(
    () => 0,
    (src) => src.length,
  );
const zeroDev = (): FileImpl =>
  charDev(
    (dst) => {
      dst.fill(0);
      return dst.length;
    },
    (src) => src.length,
  );
const fullDev = (): FileImpl =>
  charDev(
    (dst) => {
      dst.fill(0);
      return dst.length;
    },
    () => -Errno.ENOSPC,
  );
const randomDev = (): FileImpl =>
  charDev(
    (dst) => {
      randomFillSync(dst);
      return dst.length;
    },
    (src) => src.length,
  );

const ROOT_CREDS: Credentials = withCaps(
  { uid: 0, gid: 0, euid: 0, egid: 0, suid: 0, sgid: 0, groups: [] },
  { eff: CAP_FULL_SET, prm: CAP_FULL_SET, inh: 0n, bnd: CAP_FULL_SET, amb: 0n },
);

/** A new devtmpfs-like file system holding the standard memory devices. */
export function newDevFilesystem(): TmpfsFilesystem {
  const fs = new TmpfsFilesystem({ name: 'tmpfs', mode: 0o755 });
  const root = fs.root;
  root.mknodChar('null', 0o666, makeDev(1, 3), nullDev);
  root.mknodChar('zero', 0o666, makeDev(1, 5), zeroDev);
  root.mknodChar('full', 0o666, makeDev(1, 7), fullDev);
  root.mknodChar('random', 0o666, makeDev(1, 8), randomDev);
  root.mknodChar('urandom', 0o666, makeDev(1, 9), randomDev);
  root.symlink('fd', '/proc/self/fd', ROOT_CREDS);
  root.symlink('stdin', '/proc/self/fd/0', ROOT_CREDS);
  root.symlink('stdout', '/proc/self/fd/1', ROOT_CREDS);
  root.symlink('stderr', '/proc/self/fd/2', ROOT_CREDS);
  root.mkdir('shm', 0o1777, ROOT_CREDS);
  root.mkdir('pts', 0o755, ROOT_CREDS);
  return fs;
}
