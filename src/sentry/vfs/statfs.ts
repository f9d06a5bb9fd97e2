// The statfs(2) answer of a file system with no blocks or inodes to count (tmpfs, procfs,
// pipefs, anon_inodefs, host stdio): its magic number, 4 KiB blocks, 255-byte names.

import type { StatFs } from '../../abi/linux/file.js';

export function emptyStatfs(type: number): StatFs {
  return {
    type,
    bsize: 4096,
    blocks: 0n,
    bfree: 0n,
    bavail: 0n,
    files: 0n,
    ffree: 0n,
    fsid: 0n,
    namelen: 255,
    frsize: 4096,
    flags: 0,
  };
}
