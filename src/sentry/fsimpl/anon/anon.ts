// Anonymous inodes (Linux's anon_inodefs): the one inode behind files that have no name and
// no file system of their own — eventfd and epoll instances. fstat shows mode 0600 without a
// file type, as on Linux. Never opened by path; never touches the host.

import { Errno } from '../../../abi/linux/errno.js';
import { ANON_INODE_FS_MAGIC, type Stat, type StatFs } from '../../../abi/linux/file.js';
import { allocAnonDev } from '../../vfs/dev_numbers.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { FileImpl, Filesystem, Inode } from '../../vfs/inode.js';
import { emptyStatfs } from '../../vfs/statfs.js';

class AnonFilesystem implements Filesystem {
  readonly name = 'anon_inodefs';
  readonly dev = allocAnonDev();
  readonly root: Inode;
  constructor() {
    this.root = new AnonInode(this);
  }
  statfs(): StatFs {
    return emptyStatfs(ANON_INODE_FS_MAGIC);
  }
}

class AnonInode implements Inode {
  readonly type = 0;
  constructor(readonly fs: AnonFilesystem) {}
  stat(): Stat {
    return {
      dev: this.fs.dev,
      ino: 1n,
      nlink: 1,
      mode: 0o600,
      uid: 0,
      gid: 0,
      rdev: 0,
      size: 0,
      blksize: 4096,
      blocks: 0,
      atimeSec: 0,
      atimeNsec: 0,
      mtimeSec: 0,
      mtimeNsec: 0,
      ctimeSec: 0,
      ctimeNsec: 0,
    };
  }
  open(): number {
    return -Errno.ENXIO;
  }
}

let anonFs: AnonFilesystem | null = null;

/** A new open file description over the anonymous inode, with `impl` and `flags`. */
export function anonFile(impl: FileImpl, flags: number): FileDescription {
  anonFs ??= new AnonFilesystem();
  return new FileDescription(anonFs.root, null, impl, flags);
}
