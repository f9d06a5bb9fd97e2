// Anonymous pipes (pipe(2), pipe2(2)): a bounded byte queue (64 KiB, Linux's default) between
// a read end and a write end, each an open file description. Reads take what is there, 0 at
// end of file (no writers left); writes of up to PIPE_BUF bytes are atomic; writing with no
// reader answers EPIPE. Each end reports its POLL* readiness and lets a waiter subscribe to
// changes — what the kernel's wait queues will park blocking tasks on. State is owned by the
// Pipe object; nothing touches the host. Never throws.
//
// An operation that would block (read of an empty pipe with writers, write to a full pipe
// with readers) answers EAGAIN here; the open file description turns that into parking the
// caller unless it is O_NONBLOCK (vfs/file_description.ts), and the run loop sends SIGPIPE
// with EPIPE. Difference from Linux: a blocking write of more than PIPE_BUF bytes returns
// once part of it is in the pipe (a short write) instead of waiting to write it all.

import { Errno } from '../../../abi/linux/errno.js';
import {
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  PIPEFS_MAGIC,
  PIPE_BUF,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLRDNORM,
  POLLWRNORM,
  S_IFIFO,
  type Stat,
  type StatFs,
} from '../../../abi/linux/file.js';
import { allocAnonDev } from '../../vfs/dev_numbers.js';
import { FileDescription } from '../../vfs/file_description.js';
import { type FileImpl, type Filesystem, type Inode, emptyInodeStat } from '../../vfs/inode.js';
import { emptyStatfs } from '../../vfs/statfs.js';

/** Linux's default pipe capacity (16 pages). */
export const PIPE_CAPACITY = 65536;

class PipeFilesystem implements Filesystem {
  readonly name = 'pipefs';
  readonly dev = allocAnonDev();
  readonly root: Inode;
  nextIno = 1n;
  constructor() {
    this.root = new PipeInode(this, 0, 0);
  }
  statfs(): StatFs {
    return emptyStatfs(PIPEFS_MAGIC);
  }
}

let pipeFs: PipeFilesystem | null = null;
function thePipeFs(): PipeFilesystem {
  pipeFs ??= new PipeFilesystem();
  return pipeFs;
}

function nowTs(): [number, number] {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

class PipeInode implements Inode {
  readonly type = S_IFIFO;
  readonly ino: bigint;
  readonly pipe = new Pipe();
  private readonly ctime = nowTs();
  constructor(
    readonly fs: PipeFilesystem,
    private readonly uid: number,
    private readonly gid: number,
  ) {
    this.ino = fs.nextIno++;
  }

  stat(): Stat {
    return emptyInodeStat(this.fs.dev, this.ino, S_IFIFO | 0o600, this.uid, this.gid, this.ctime);
  }

  open(): number {
    return -Errno.ENXIO;
  }
}

/** The queue between the two ends. */
export class Pipe {
  private chunks: Uint8Array[] = [];
  private head = 0;
  size = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    public readers = 1,
    public writers = 1,
  ) {}

  get space(): number {
    return PIPE_CAPACITY - this.size;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  subscribe(cb: () => void): () => void {
    this.waiters.add(cb);
    return () => this.waiters.delete(cb);
  }

  read(dst: Uint8Array): number {
    if (dst.length === 0) return 0;
    if (this.size === 0) return this.writers === 0 ? 0 : -Errno.EAGAIN;
    let n = 0;
    while (n < dst.length && this.chunks.length > 0) {
      const c = this.chunks[0];
      if (c === undefined) break;
      const take = Math.min(dst.length - n, c.length - this.head);
      dst.set(c.subarray(this.head, this.head + take), n);
      n += take;
      this.head += take;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.size -= n;
    this.notify();
    return n;
  }

  write(src: Uint8Array): number {
    if (this.readers === 0) return -Errno.EPIPE;
    if (src.length === 0) return 0;
    const space = this.space;
    if (space === 0 || (src.length <= PIPE_BUF && space < src.length)) return -Errno.EAGAIN;
    const n = Math.min(space, src.length);
    this.chunks.push(src.slice(0, n));
    this.size += n;
    this.notify();
    return n;
  }

  closeReader(): void {
    this.readers--;
    this.notify();
  }

  closeWriter(): void {
    this.writers--;
    this.notify();
  }
}

/** The read end of `p` (the caller counted the reader). */
export function readEnd(p: Pipe): FileImpl {
  return {
    seekable: false,
    read: (dst) => p.read(dst),
    write: () => -Errno.EBADF,
    readable: () => p.size,
    readiness: () => (p.size > 0 ? POLLIN | POLLRDNORM : 0) | (p.writers === 0 ? POLLHUP : 0),
    subscribe: (cb) => p.subscribe(cb),
    release: () => p.closeReader(),
  };
}

/** The write end of `p` (the caller counted the writer). */
export function writeEnd(p: Pipe): FileImpl {
  return {
    seekable: false,
    read: () => -Errno.EBADF,
    write: (src) => p.write(src),
    // As Linux's pipe_poll: writable while there is room, and POLLERR once no reader is left.
    readiness: () => (p.space > 0 ? POLLOUT | POLLWRNORM : 0) | (p.readers === 0 ? POLLERR : 0),
    subscribe: (cb) => p.subscribe(cb),
    release: () => p.closeWriter(),
  };
}

/** Both ends at once (a FIFO opened O_RDWR; the caller counted a reader and a writer). */
export function bothEnds(p: Pipe): FileImpl {
  const r = readEnd(p);
  const w = writeEnd(p);
  return {
    seekable: false,
    read: (dst) => p.read(dst),
    write: (src) => p.write(src),
    readable: () => p.size,
    readiness: () => (r.readiness?.() ?? 0) | (w.readiness?.() ?? 0),
    subscribe: (cb) => p.subscribe(cb),
    release: () => {
      p.closeReader();
      p.closeWriter();
    },
  };
}

/** A new pipe: [read end, write end]; `flags` may carry O_NONBLOCK. */
export function newPipe(
  uid: number,
  gid: number,
  flags: number,
): [FileDescription, FileDescription] {
  const inode = new PipeInode(thePipeFs(), uid, gid);
  const nb = flags & O_NONBLOCK;
  return [
    new FileDescription(inode, null, readEnd(inode.pipe), O_RDONLY | nb),
    new FileDescription(inode, null, writeEnd(inode.pipe), O_WRONLY | nb),
  ];
}
