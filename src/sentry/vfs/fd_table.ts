// A task's file descriptor table: fd number → (open file description, FD_CLOEXEC). Installs
// at the lowest free number, implements dup/dup2/dup3 and close_range semantics, and bounds
// fd numbers by RLIMIT_NOFILE (`limit`, which the kernel sets). Shared between threads that
// share files (CLONE_FILES) by sharing the object; fork() copies it. Never throws.

import { Errno } from '../../abi/linux/errno.js';
import type { FileDescription } from './file_description.js';

interface Slot {
  file: FileDescription;
  cloexec: boolean;
}

/** Linux's default RLIMIT_NOFILE soft limit. */
export const DEFAULT_NOFILE = 1024;

export class FdTable {
  /** RLIMIT_NOFILE: fd numbers are below it. */
  limit: number;
  private slots: Array<Slot | undefined> = [];

  constructor(limit = DEFAULT_NOFILE) {
    this.limit = limit;
  }

  /** Installs `file` at the lowest free fd >= `minFd` (taking over the caller's reference). */
  install(file: FileDescription, cloexec = false, minFd = 0): number {
    if (minFd < 0 || minFd >= this.limit) return -Errno.EMFILE;
    for (let fd = minFd; fd < this.limit; fd++) {
      if (this.slots[fd] === undefined) {
        this.slots[fd] = { file, cloexec };
        return fd;
      }
    }
    return -Errno.EMFILE;
  }

  /** Installs `file` at exactly `fd`, closing what was there (dup2 semantics); returns fd. */
  installAt(fd: number, file: FileDescription, cloexec = false): number {
    if (!Number.isInteger(fd) || fd < 0 || fd >= this.limit) return -Errno.EBADF;
    const old = this.slots[fd];
    this.slots[fd] = { file, cloexec };
    if (old !== undefined) old.file.decRef();
    return fd;
  }

  /** The description at `fd`, or undefined. */
  get(fd: number): FileDescription | undefined {
    if (!Number.isInteger(fd) || fd < 0) return undefined;
    return this.slots[fd]?.file;
  }

  /** The description at `fd`, or -EBADF. */
  getFile(fd: number): FileDescription | number {
    return this.get(fd) ?? -Errno.EBADF;
  }

  getCloexec(fd: number): boolean | number {
    const s = Number.isInteger(fd) && fd >= 0 ? this.slots[fd] : undefined;
    return s === undefined ? -Errno.EBADF : s.cloexec;
  }

  setCloexec(fd: number, on: boolean): number {
    const s = Number.isInteger(fd) && fd >= 0 ? this.slots[fd] : undefined;
    if (s === undefined) return -Errno.EBADF;
    s.cloexec = on;
    return 0;
  }

  /** close(2). */
  close(fd: number): number {
    const s = Number.isInteger(fd) && fd >= 0 ? this.slots[fd] : undefined;
    if (s === undefined) return -Errno.EBADF;
    this.slots[fd] = undefined;
    s.file.decRef();
    return 0;
  }

  /** dup(2) / F_DUPFD / F_DUPFD_CLOEXEC: a new fd >= `minFd` sharing the description. */
  dup(fd: number, minFd = 0, cloexec = false): number {
    const f = this.get(fd);
    if (f === undefined) return -Errno.EBADF;
    if (minFd >= this.limit) return -Errno.EINVAL;
    f.incRef();
    const r = this.install(f, cloexec, minFd);
    if (r < 0) f.decRef();
    return r;
  }

  /** dup2(2) when oldfd === newfd answers newfd; dup3(2) answers -EINVAL (the caller decides). */
  dup2(oldfd: number, newfd: number, cloexec = false): number {
    const f = this.get(oldfd);
    if (f === undefined) return -Errno.EBADF;
    if (oldfd === newfd) return newfd;
    if (!Number.isInteger(newfd) || newfd < 0 || newfd >= this.limit) return -Errno.EBADF;
    f.incRef();
    return this.installAt(newfd, f, cloexec);
  }

  /** close_range(2) over [first, last]; with `cloexec`, marks instead of closing. */
  closeRange(first: number, last: number, cloexec: boolean): void {
    const end = Math.min(last, this.slots.length - 1);
    for (let fd = first; fd <= end; fd++) {
      const s = this.slots[fd];
      if (s === undefined) continue;
      if (cloexec) s.cloexec = true;
      else this.close(fd);
    }
  }

  /** execve(2): closes every FD_CLOEXEC descriptor. */
  closeOnExec(): void {
    for (let fd = 0; fd < this.slots.length; fd++) {
      if (this.slots[fd]?.cloexec === true) this.close(fd);
    }
  }

  /** Exit: closes everything. */
  closeAll(): void {
    this.closeRange(0, this.slots.length - 1, false);
  }

  /** fork(2) without CLONE_FILES: a copy sharing every description. */
  fork(): FdTable {
    const t = new FdTable(this.limit);
    for (let fd = 0; fd < this.slots.length; fd++) {
      const s = this.slots[fd];
      if (s === undefined) continue;
      s.file.incRef();
      t.slots[fd] = { file: s.file, cloexec: s.cloexec };
    }
    return t;
  }

  /** The open fd numbers, ascending (for /proc/self/fd and tests). */
  fds(): number[] {
    const out: number[] = [];
    for (let fd = 0; fd < this.slots.length; fd++) if (this.slots[fd] !== undefined) out.push(fd);
    return out;
  }
}
