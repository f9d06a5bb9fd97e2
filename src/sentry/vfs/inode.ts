// The small interfaces between the vfs and the file systems: a `Filesystem` (one mounted
// instance), its `Inode`s (what a name resolves to) and the `FileImpl` an inode opens into.
// Concrete file systems (fsimpl/) implement these; the vfs only calls them. Every method
// returns a value or a negative errno and never throws. Optional methods are capabilities:
// an inode without `create` is in a file system that cannot create (the vfs answers EROFS).

import type { Stat, StatFs } from '../../abi/linux/file.js';
import type { Credentials } from '../syscalls/types.js';

export interface Filesystem {
  /** The file system type as /proc/mounts names it: "tmpfs", "9p", "devtmpfs". */
  readonly name: string;
  /** st_dev of every inode of this instance. */
  readonly dev: number;
  readonly root: Inode;
  statfs(): StatFs | number;
}

/** One entry of a directory listing; `next` is the position after it. */
export interface DirEntry {
  ino: bigint;
  type: number;
  name: string;
  next: number;
}

export interface Inode {
  readonly fs: Filesystem;
  /** S_IF* type bits; fixed for the inode's life. */
  readonly type: number;
  stat(): Stat | number;
  /** Directories: the child named `name` (never "." or "..", which the vfs resolves). */
  lookup?(name: string): Inode | number;
  /** Symbolic links: the target. */
  readlink?(): string | number;
  /** Opens the inode; `flags` are the open(2) flags less O_CREAT/O_EXCL/O_NOCTTY/O_CLOEXEC. */
  open(flags: number, creds: Credentials): FileImpl | number;
  /** Directories: creates a regular file `name` (which does not exist) with `mode`. */
  create?(name: string, mode: number, creds: Credentials): Inode | number;
  mkdir?(name: string, mode: number, creds: Credentials): Inode | number;
  symlink?(name: string, target: string, creds: Credentials): Inode | number;
  /** Directories: creates a FIFO `name` (mknod(2) with S_IFIFO). */
  mkfifo?(name: string, mode: number, creds: Credentials): Inode | number;
  /** Directories: creates a socket node `name` (bind(2) of a Unix socket, mknod S_IFSOCK). */
  mksock?(name: string, mode: number, creds: Credentials): Inode | number;
  /** Regular files: sets the size (O_TRUNC, truncate(2)). */
  truncate?(size: number): number;
  /** Directories: removes the non-directory `name`. */
  unlink?(name: string): number;
  /** Directories: removes the empty directory `name` (-ENOTEMPTY otherwise). */
  rmdir?(name: string): number;
  /**
   * Directories: moves `oldName` here to `newName` in `newDir` (a directory of the same file
   * system), replacing what is there (the vfs has checked the types match).
   */
  rename?(oldName: string, newDir: Inode, newName: string): number;
  /** Directories: a new name `name` for the non-directory `target` (same file system). */
  link?(name: string, target: Inode): number;
  /** Regular files: zeroes [offset, offset + length) within the size (FALLOC_FL_PUNCH_HOLE). */
  punchHole?(offset: number, length: number): number;
  /** Changes attributes: only the fields present. */
  setattr?(attr: SetAttr): number;
  /**
   * Extended attributes (absent: the file system keeps none, EOPNOTSUPP). The syscall layer
   * has checked the name, its namespace and the caller's permission. The value, or -ENODATA.
   */
  getxattr?(name: string): Uint8Array | number;
  /** The names of the extended attributes. */
  listxattr?(): string[] | number;
  /** Sets `name`; `flags` XATTR_CREATE (-EEXIST if present) or XATTR_REPLACE (-ENODATA if not). */
  setxattr?(name: string, value: Uint8Array, flags: number): number;
  /** Removes `name` (-ENODATA if absent). */
  removexattr?(name: string): number;
}

/** What chmod, chown, truncate and utimensat change. Times are [seconds, nanoseconds]. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: readonly [number, number];
  mtime?: readonly [number, number];
}

/** The operations of an open file, positioned by the caller (the FileDescription). */
export interface FileImpl {
  /** False for streams (pipes, ttys, character devices): pread/pwrite/lseek answer ESPIPE. */
  readonly seekable: boolean;
  /** Reads at `offset` into `dst`; the number of bytes read (0 at end of file) or -errno. */
  read(dst: Uint8Array, offset: number): number;
  /** Writes `src` at `offset`; the number of bytes written or -errno. */
  write(src: Uint8Array, offset: number): number;
  /** Directories: entries from position `pos` on (a batch, possibly all; [] at the end). */
  readdir?(pos: number): DirEntry[] | number;
  /** Overrides the inode's attributes (host-backed files). */
  stat?(): Stat | number;
  /** Device-specific ioctl; `arg` is the raw argument. -ENOTTY when unknown. */
  ioctl?(cmd: number, arg: bigint): number;
  /** Bytes readable without blocking (FIONREAD), when the file knows. */
  readable?(): number;
  /**
   * Streams that can be waited on (pipes, later sockets and ttys): the POLL* events ready now.
   * Absent: always ready for reading and writing (regular files).
   */
  readiness?(): number;
  /**
   * Calls `cb` whenever readiness may have changed; returns the unsubscriber. `events` (POLL*
   * bits) says what the waiter waits for: files whose readiness only the host knows watch
   * for just that; the others may ignore it.
   */
  subscribe?(cb: () => void, events?: number): () => void;
  /**
   * How long a blocking read (`events` POLLIN) or write (POLLOUT) may wait before it answers
   * EAGAIN (a socket's SO_RCVTIMEO / SO_SNDTIMEO); 0n or absent: for ever.
   */
  waitLimitNs?(events: number): bigint;
  /** fsync(2)/fdatasync(2): 0 or -errno (absent: nothing to flush). */
  sync?(): number;
  /** Called once, when the last reference to the open file description goes away. */
  release(): void;
}

/**
 * The attributes of an inode that holds no data of its own (a pipe, a socket, an anonymous
 * file): one link, size 0, every time the moment it was made.
 */
export function emptyInodeStat(
  dev: number,
  ino: bigint,
  mode: number,
  uid: number,
  gid: number,
  [sec, nsec]: readonly [number, number],
): Stat {
  return {
    dev,
    ino,
    nlink: 1,
    mode,
    uid,
    gid,
    rdev: 0,
    size: 0,
    blksize: 4096,
    blocks: 0,
    atimeSec: sec,
    atimeNsec: nsec,
    mtimeSec: sec,
    mtimeNsec: nsec,
    ctimeSec: sec,
    ctimeNsec: nsec,
  };
}
