// A task's file system context: its root directory, its working directory and its umask
// (Linux's fs_struct). Shared between threads with CLONE_FS by sharing the object; fork()
// copies it. Holds positions only; never resolves paths itself, never throws.

import type { VfsPath } from './mount.js';

export class FsContext {
  root: VfsPath;
  cwd: VfsPath;
  umask: number;

  constructor(root: VfsPath, cwd: VfsPath = root, umask = 0o022) {
    this.root = root;
    this.cwd = cwd;
    this.umask = umask;
  }

  /** fork(2) without CLONE_FS. */
  fork(): FsContext {
    return new FsContext(this.root, this.cwd, this.umask);
  }
}
