// Files backed by host file descriptors the Sentry holds: the container's stdio that the
// caller hands over. Reads and writes go to the host fd once poll(2) says they will not block
// (else EAGAIN, and a blocking caller parks on the host watch); fstat reports the host's file type and size under Sentry-owned
// st_dev/st_ino and the ids given at creation. Never exposes a host fd number to the
// application; never throws.
//
// Differences from Linux: these files are streams even when the host fd is a regular file
// (lseek/pread answer ESPIPE); TCGETS/TIOCGWINSZ answer ENOTTY even when the host fd is a
// terminal (no terminal emulation yet).

import { Errno } from '../../../abi/linux/errno.js';
import {
  ANON_INODE_FS_MAGIC,
  O_ACCMODE,
  O_APPEND,
  O_LARGEFILE,
  PIPE_BUF,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
  makeDev,
  type Stat,
  type StatFs,
} from '../../../abi/linux/file.js';
import type { HostFd } from '../../../host/fd.js';
import { hostFstat, hostGetfl, hostPoll, hostRead, hostWrite } from '../../../host/io.js';
import { hostWatch } from '../../kernel/host_watch.js';
import { allocAnonDev } from '../../vfs/dev_numbers.js';
import type { FdTable } from '../../vfs/fd_table.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { FileImpl, Filesystem, Inode } from '../../vfs/inode.js';
import { emptyStatfs } from '../../vfs/statfs.js';

class HostFilesystem implements Filesystem {
  readonly name = 'hostfd';
  readonly dev = allocAnonDev();
  readonly root: Inode;
  nextIno = 1n;
  constructor() {
    this.root = new HostInode(this, null, S_IFIFO, 0, 0);
  }
  statfs(): StatFs {
    return emptyStatfs(ANON_INODE_FS_MAGIC);
  }
}

let hostFs: HostFilesystem | null = null;
function theHostFs(): HostFilesystem {
  hostFs ??= new HostFilesystem();
  return hostFs;
}

class HostInode implements Inode {
  readonly ino: bigint;
  constructor(
    readonly fs: HostFilesystem,
    readonly host: HostFd | null,
    readonly type: number,
    readonly uid: number,
    readonly gid: number,
  ) {
    this.ino = fs.nextIno++;
  }

  stat(): Stat | number {
    const base: Stat = {
      dev: this.fs.dev,
      ino: this.ino,
      nlink: 1,
      mode: this.type | 0o600,
      uid: this.uid,
      gid: this.gid,
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
    if (this.host === null || this.host.closed) return base;
    const h = hostFstat(this.host.fd);
    if (typeof h === 'number') return h;
    const rdev = makeDev(
      Number((h.rdev >> 8n) & 0xfffn),
      Number((h.rdev & 0xffn) | ((h.rdev >> 12n) & 0xfff00n)),
    );
    return {
      ...base,
      mode: h.mode,
      rdev,
      size: h.size,
      blksize: h.blksize,
      blocks: h.blocks,
      atimeSec: h.atimeSec,
      atimeNsec: h.atimeNsec,
      mtimeSec: h.mtimeSec,
      mtimeNsec: h.mtimeNsec,
      ctimeSec: h.ctimeSec,
      ctimeNsec: h.ctimeNsec,
    };
  }

  open(): FileImpl | number {
    const host = this.host;
    if (host === null) return -Errno.ENXIO;
    // A regular file never blocks; anything else (a pipe, a tty, a socket) is asked first, so
    // that the Sentry never blocks in it: not ready is EAGAIN, and a blocking caller parks
    // until the host watch (kernel/host_watch.ts) sees the fd ready.
    const stream = (this.type & S_IFMT) !== S_IFREG;
    const ready = (events: number): boolean => {
      hostWatch.rearm(host.fd);
      if (!stream) return true;
      const r = hostPoll(host.fd, events, 0);
      return r < 0 || (r & (events | POLLERR | POLLHUP | POLLNVAL)) !== 0;
    };
    return {
      seekable: false,
      read: (dst) => {
        if (host.closed) return -Errno.EBADF;
        return ready(POLLIN) ? hostRead(host.fd, dst) : -Errno.EAGAIN;
      },
      write: (src) => {
        if (host.closed) return -Errno.EBADF;
        if (!ready(POLLOUT)) return -Errno.EAGAIN;
        // Ready to write means room for PIPE_BUF bytes: more could block the Sentry.
        return hostWrite(host.fd, stream ? src.subarray(0, PIPE_BUF) : src);
      },
      ioctl: () => -Errno.ENOTTY,
      // The host fd's own readiness, without waiting.
      readiness: () => {
        if (host.closed) return 0;
        hostWatch.rearm(host.fd);
        const r = hostPoll(host.fd, POLLIN | POLLOUT, 0);
        return r < 0 ? 0 : r;
      },
      subscribe: (cb, events) => {
        if (host.closed) return () => undefined;
        return hostWatch.subscribe(host.fd, events ?? POLLIN | POLLOUT, cb);
      },
      release: () => {
        host.close();
      },
    };
  }
}

export interface HostFileOptions {
  /** st_uid/st_gid the application sees (default 0). */
  uid?: number;
  gid?: number;
}

/**
 * An open file description over `host` (whose ownership passes to it: the host fd is closed
 * when the last application fd referring to it closes). Its access mode is the host fd's.
 */
export function newHostFile(host: HostFd, opts: HostFileOptions = {}): FileDescription | number {
  const fl = hostGetfl(host.fd);
  if (fl < 0) return fl;
  const st = hostFstat(host.fd);
  if (typeof st === 'number') return st;
  const inode = new HostInode(theHostFs(), host, st.mode & S_IFMT, opts.uid ?? 0, opts.gid ?? 0);
  const impl = inode.open();
  if (typeof impl === 'number') return impl;
  // Never the host's O_NONBLOCK: Node sets it on the pipes it shares with us (our own CLI's
  // stdout is the container's), and an application that did not ask for it would meet EAGAIN
  // when its reader is slow and lose what it wrote. The Sentry never blocks in a host fd
  // anyway (it asks poll first); a blocking caller parks.
  return new FileDescription(inode, null, impl, (fl & (O_ACCMODE | O_APPEND)) | O_LARGEFILE);
}

/**
 * Installs the container's stdio as fds 0, 1 and 2 of `files` (the init process's table).
 * Returns 0, or the first -errno (after which nothing of `stdio` is owned by the table).
 */
export function installStdio(
  files: FdTable,
  stdio: readonly [HostFd, HostFd, HostFd],
  opts: HostFileOptions = {},
): number {
  const made: FileDescription[] = [];
  for (const h of stdio) {
    const f = newHostFile(h, opts);
    if (typeof f === 'number') return f;
    made.push(f);
  }
  made.forEach((f, fd) => files.installAt(fd, f));
  return 0;
}
