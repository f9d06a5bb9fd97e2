// procfs: /proc as the sandbox shows it — "self", one directory per task (exe, cwd, root,
// fd/, cmdline, status, stat, maps, environ, mounts), and the system files (mounts, cpuinfo,
// meminfo, uptime, version, filesystems, loadavg, stat, and net/: tcp, udp, unix, dev, route). Everything is generated on demand:
// the vfs-derived parts (fd links, cwd, mounts) here, the task- and system-specific text by
// the kernel through the small `ProcSource` interface. A file's content is rendered once, when
// it is opened, and read from that snapshot. Nothing touches the host's /proc. Never throws.
//
// Differences from Linux: /proc/<pid>/fd/N, cwd, exe and root are plain symlinks to path
// strings (not "magic links" to the open file itself), so a deleted file or a pipe cannot be
// reopened through them; no /proc/sys, /proc/<pid>/task, /proc/<pid>/ns.

import { Errno } from '../../../abi/linux/errno.js';
import {
  DT_DIR,
  DT_LNK,
  DT_REG,
  PROC_SUPER_MAGIC,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  type Stat,
  type StatFs,
} from '../../../abi/linux/file.js';
import { allocAnonDev } from '../../vfs/dev_numbers.js';
import type { FdTable } from '../../vfs/fd_table.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { FsContext } from '../../vfs/fs_context.js';
import type { DirEntry, FileImpl, Filesystem, Inode } from '../../vfs/inode.js';
import { pathString, samePath, type Mount, type VfsPath } from '../../vfs/mount.js';
import { emptyStatfs } from '../../vfs/statfs.js';

/** What procfs needs to know of one task (the kernel implements it). */
export interface ProcTask {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  readonly files: FdTable;
  readonly fs: FsContext;
  /** The executable's path in the task's view, or null. */
  exe(): string | null;
  /** Task files the kernel renders ("cmdline", "environ", "status", "stat", "maps"); null: absent. */
  render(name: string): Uint8Array | null;
}

/** What procfs needs of the kernel. */
export interface ProcSource {
  /** The task making the current system call ("self"). */
  current(): ProcTask | null;
  task(pid: number): ProcTask | null;
  pids(): number[];
  /** System files the kernel renders ("cpuinfo", "meminfo", "uptime", "version", "loadavg", "stat"). */
  render(name: string): Uint8Array | null;
}

const TASK_FILES = ['cmdline', 'environ', 'status', 'stat', 'maps', 'statm', 'smaps_rollup'];
const SYSTEM_FILES = ['cpuinfo', 'meminfo', 'uptime', 'version', 'loadavg', 'stat'];
/** /proc/net's files (rendered as "net/<name>" by the source). */
const NET_FILES = ['tcp', 'udp', 'unix', 'dev', 'route'];
const enc = new TextEncoder();

export class ProcFilesystem implements Filesystem {
  readonly name = 'proc';
  readonly dev = allocAnonDev();
  readonly root: Inode;
  private readonly inos = new Map<string, bigint>();

  constructor(readonly source: ProcSource) {
    this.root = new ProcDir(
      this,
      '/',
      0o555,
      () => this.rootEntries(),
      (n) => this.rootLookup(n),
    );
  }

  /** A stable inode number per /proc path. */
  ino(path: string): bigint {
    let i = this.inos.get(path);
    if (i === undefined) {
      i = BigInt(this.inos.size + 2);
      this.inos.set(path, i);
    }
    return i;
  }

  statfs(): StatFs {
    return emptyStatfs(PROC_SUPER_MAGIC);
  }

  private rootEntries(): Array<[string, number]> {
    const out: Array<[string, number]> = [
      ['self', DT_LNK],
      ['mounts', DT_LNK],
      ['filesystems', DT_REG],
      ['net', DT_DIR],
    ];
    for (const f of SYSTEM_FILES) if (this.source.render(f) !== null) out.push([f, DT_REG]);
    for (const pid of this.source.pids()) out.push([String(pid), DT_DIR]);
    return out;
  }

  private rootLookup(name: string): Inode | number {
    if (name === 'self') {
      const cur = this.source.current();
      return cur === null ? -Errno.ENOENT : new ProcLink(this, '/self', () => String(cur.pid));
    }
    if (name === 'mounts') return new ProcLink(this, '/mounts', () => 'self/mounts');
    if (name === 'net') {
      const files = (): string[] =>
        NET_FILES.filter((f) => this.source.render(`net/${f}`) !== null);
      return new ProcDir(
        this,
        '/net',
        0o555,
        () => files().map((f): [string, number] => [f, DT_REG]),
        (n) =>
          files().includes(n)
            ? new ProcFile(this, `/net/${n}`, () => this.source.render(`net/${n}`))
            : -Errno.ENOENT,
      );
    }
    if (name === 'filesystems') {
      return new ProcFile(this, '/filesystems', () =>
        enc.encode('nodev\ttmpfs\nnodev\tproc\nnodev\t9p\nnodev\tpipefs\n'),
      );
    }
    if (SYSTEM_FILES.includes(name)) {
      const b = this.source.render(name);
      return b === null
        ? -Errno.ENOENT
        : new ProcFile(this, `/${name}`, () => this.source.render(name));
    }
    if (/^[1-9][0-9]*$/.test(name)) {
      const t = this.source.task(Number(name));
      return t === null ? -Errno.ENOENT : taskDir(this, t);
    }
    return -Errno.ENOENT;
  }
}

abstract class ProcInode implements Inode {
  abstract readonly type: number;
  readonly ino: bigint;
  constructor(
    readonly fs: ProcFilesystem,
    readonly path: string,
    readonly perm: number,
    readonly uid = 0,
    readonly gid = 0,
  ) {
    this.ino = fs.ino(path);
  }

  stat(): Stat {
    return {
      dev: this.fs.dev,
      ino: this.ino,
      nlink: this.type === S_IFDIR ? 2 : 1,
      mode: this.type | this.perm,
      uid: this.uid,
      gid: this.gid,
      rdev: 0,
      size: 0,
      blksize: 1024,
      blocks: 0,
      atimeSec: 0,
      atimeNsec: 0,
      mtimeSec: 0,
      mtimeNsec: 0,
      ctimeSec: 0,
      ctimeNsec: 0,
    };
  }

  abstract open(): FileImpl | number;
}

class ProcDir extends ProcInode {
  readonly type = S_IFDIR;
  constructor(
    fs: ProcFilesystem,
    path: string,
    perm: number,
    private readonly list: () => Array<[string, number]>,
    private readonly find: (name: string) => Inode | number,
    uid = 0,
    gid = 0,
  ) {
    super(fs, path, perm, uid, gid);
  }

  lookup(name: string): Inode | number {
    return this.find(name);
  }

  open(): FileImpl {
    let snapshot: DirEntry[] | null = null;
    const entries = (): DirEntry[] => {
      const out: DirEntry[] = [
        { ino: this.ino, type: DT_DIR, name: '.', next: 1 },
        { ino: this.ino, type: DT_DIR, name: '..', next: 2 },
      ];
      for (const [name, type] of this.list()) {
        const child = this.path === '/' ? `/${name}` : `${this.path}/${name}`;
        out.push({ ino: this.fs.ino(child), type, name, next: out.length + 1 });
      }
      return out;
    };
    return {
      seekable: true,
      read: () => -Errno.EISDIR,
      write: () => -Errno.EISDIR,
      readdir: (pos) => {
        if (pos === 0 || snapshot === null) snapshot = entries();
        return snapshot.slice(pos);
      },
      release: () => undefined,
    };
  }
}

class ProcLink extends ProcInode {
  readonly type = S_IFLNK;
  constructor(
    fs: ProcFilesystem,
    path: string,
    private readonly target: () => string | number,
    uid = 0,
    gid = 0,
  ) {
    super(fs, path, 0o777, uid, gid);
  }

  readlink(): string | number {
    return this.target();
  }

  open(): number {
    return -Errno.ELOOP;
  }
}

class ProcFile extends ProcInode {
  readonly type = S_IFREG;
  constructor(
    fs: ProcFilesystem,
    path: string,
    private readonly render: () => Uint8Array | null,
    uid = 0,
    gid = 0,
    perm = 0o444,
  ) {
    super(fs, path, perm, uid, gid);
  }

  open(): FileImpl | number {
    const data = this.render();
    if (data === null) return -Errno.ENOENT;
    return {
      seekable: true,
      read: (dst, off) => {
        if (off >= data.length) return 0;
        const n = Math.min(dst.length, data.length - off);
        dst.set(data.subarray(off, off + n));
        return n;
      },
      write: () => -Errno.EACCES,
      release: () => undefined,
    };
  }
}

/** The path of an open file as /proc/<pid>/fd shows it. */
export function fdLinkTarget(f: FileDescription, root: VfsPath): string {
  if (f.path !== null) return pathString(f.path, root) ?? '/';
  const st = f.stat();
  const ino = typeof st === 'number' ? 0n : st.ino;
  return f.inode.fs.name === 'pipefs' ? `pipe:[${ino}]` : `anon_inode:[${f.inode.fs.name}]`;
}

function mountsText(t: ProcTask): Uint8Array {
  const root = t.fs.root;
  const lines: string[] = [];
  const visit = (m: Mount): void => {
    const at: VfsPath | null =
      m.mountpoint !== null && m.parent !== null ? { mount: m.parent, dentry: m.mountpoint } : null;
    let where: string | null;
    if (samePath({ mount: m, dentry: m.root }, root) || at === null) where = '/';
    else where = pathString(at, root);
    if (where !== null) {
      const src = m.fs.name === '9p' ? 'none' : m.fs.name;
      lines.push(`${src} ${where} ${m.fs.name} ${m.readOnly ? 'ro' : 'rw'},relatime 0 0`);
    }
    for (const c of m.children.values()) visit(c);
  };
  visit(root.mount);
  return enc.encode(lines.map((l) => l + '\n').join(''));
}

function taskDir(fs: ProcFilesystem, t: ProcTask): Inode {
  const base = `/${t.pid}`;
  const names: Array<[string, number]> = [
    ['exe', DT_LNK],
    ['cwd', DT_LNK],
    ['root', DT_LNK],
    ['fd', DT_DIR],
    ['mounts', DT_REG],
  ];
  for (const f of TASK_FILES) names.push([f, DT_REG]);
  const find = (name: string): Inode | number => {
    const p = `${base}/${name}`;
    switch (name) {
      case 'exe':
        return new ProcLink(fs, p, () => t.exe() ?? -Errno.ENOENT, t.uid, t.gid);
      case 'cwd':
        return new ProcLink(fs, p, () => pathString(t.fs.cwd, t.fs.root) ?? '/', t.uid, t.gid);
      case 'root':
        return new ProcLink(fs, p, () => '/', t.uid, t.gid);
      case 'mounts':
        return new ProcFile(fs, p, () => mountsText(t), t.uid, t.gid);
      case 'fd':
        return fdDir(fs, t, p);
      default:
        if (!TASK_FILES.includes(name)) return -Errno.ENOENT;
        return new ProcFile(
          fs,
          p,
          () => t.render(name),
          t.uid,
          t.gid,
          name === 'environ' ? 0o400 : 0o444,
        );
    }
  };
  return new ProcDir(fs, base, 0o555, () => names, find, t.uid, t.gid);
}

function fdDir(fs: ProcFilesystem, t: ProcTask, base: string): Inode {
  const list = (): Array<[string, number]> => t.files.fds().map((fd) => [String(fd), DT_LNK]);
  const find = (name: string): Inode | number => {
    if (!/^(0|[1-9][0-9]*)$/.test(name)) return -Errno.ENOENT;
    const fd = Number(name);
    if (t.files.get(fd) === undefined) return -Errno.ENOENT;
    return new ProcLink(
      fs,
      `${base}/${name}`,
      () => {
        const f = t.files.get(fd);
        return f === undefined ? -Errno.ENOENT : fdLinkTarget(f, t.fs.root);
      },
      t.uid,
      t.gid,
    );
  };
  return new ProcDir(fs, base, 0o500, list, find, t.uid, t.gid);
}
