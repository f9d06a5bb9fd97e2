// Unit tests of every file syscall handler through the test double of application memory:
// results, copied-out structs, bad pointers (-EFAULT), bad fds (-EBADF) and flag checks.

import { CAP_FULL_SET } from '../../abi/linux/capability.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../abi/linux/errno.js';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  CLOSE_RANGE_CLOEXEC,
  FD_CLOEXEC,
  FIOCLEX,
  FIONBIO,
  FIONREAD,
  F_DUPFD,
  F_DUPFD_CLOEXEC,
  F_GETFD,
  F_GETFL,
  F_SETFD,
  F_SETFL,
  MAX_RW_COUNT,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_LARGEFILE,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  R_OK,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  SEEK_CUR,
  SEEK_END,
  SEEK_SET,
  STATX_BASIC_STATS,
  TCGETS,
  TIOCGWINSZ,
  TMPFS_MAGIC,
  W_OK,
  X_OK,
} from '../../abi/linux/file.js';
import { USER, makeTask, makeTree, type TestTask } from '../../../testlib/sentry_vfs.js';
import { fileSyscalls } from './sys_file.js';

const NR = {
  read: 0,
  write: 1,
  open: 2,
  close: 3,
  stat: 4,
  fstat: 5,
  lstat: 6,
  lseek: 8,
  ioctl: 16,
  pread64: 17,
  pwrite64: 18,
  readv: 19,
  writev: 20,
  access: 21,
  dup: 32,
  dup2: 33,
  fcntl: 72,
  getcwd: 79,
  chdir: 80,
  fchdir: 81,
  readlink: 89,
  statfs: 137,
  fstatfs: 138,
  getdents64: 217,
  openat: 257,
  newfstatat: 262,
  readlinkat: 267,
  faccessat: 269,
  dup3: 292,
  statx: 332,
  close_range: 436,
  faccessat2: 439,
  getxattr: 191,
  lgetxattr: 192,
  fgetxattr: 193,
  listxattr: 194,
  setxattr: 188,
  lsetxattr: 189,
  removexattr: 197,
  flock: 73,
  openat2: 437,
  pipe: 22,
  pipe2: 293,
  sendfile: 40,
  preadv: 295,
  pwritev: 296,
  preadv2: 327,
  pwritev2: 328,
} as const;

function sys(t: TestTask, name: keyof typeof NR, ...args: Array<number | bigint>): number {
  const e = fileSyscalls.get(NR[name]);
  assert.ok(e !== undefined, name);
  assert.equal(e.name, name);
  const a = [0n, 0n, 0n, 0n, 0n, 0n] as [bigint, bigint, bigint, bigint, bigint, bigint];
  args.forEach((v, i) => (a[i] = BigInt.asUintN(64, BigInt(v))));
  const r = e.handler(t, a);
  return Number(r);
}

function open(t: TestTask, path: string, flags: number, mode = 0): number {
  return sys(t, 'open', t.mem.string(path), flags, mode);
}

function str(t: TestTask, addr: bigint, len: number): string {
  return Buffer.from(t.mem.read(addr, len)).toString('utf8');
}

function stat(
  t: TestTask,
  addr: bigint,
): { mode: number; size: number; ino: bigint; nlink: number } {
  const v = new DataView(t.mem.read(addr, 144).buffer);
  return {
    ino: v.getBigUint64(8, true),
    nlink: Number(v.getBigUint64(16, true)),
    mode: v.getUint32(24, true),
    size: Number(v.getBigInt64(48, true)),
  };
}

function dirents(
  t: TestTask,
  addr: bigint,
  n: number,
): Array<{ name: string; type: number; off: number }> {
  const b = t.mem.read(addr, n);
  const v = new DataView(b.buffer);
  const out: Array<{ name: string; type: number; off: number }> = [];
  for (let at = 0; at < n;) {
    const reclen = v.getUint16(at + 16, true);
    assert.equal(reclen % 8, 0);
    const nameEnd = b.indexOf(0, at + 19);
    out.push({
      name: Buffer.from(b.subarray(at + 19, nameEnd)).toString(),
      type: v.getUint8(at + 18),
      off: Number(v.getBigInt64(at + 8, true)),
    });
    at += reclen;
  }
  return out;
}

describe('open, close, read, write', () => {
  it('opens at the lowest fd, reads, and closes', () => {
    const t = makeTask();
    const fd = open(t, '/etc/passwd', O_RDONLY);
    assert.equal(fd, 0);
    const buf = t.mem.alloc(64);
    const n = sys(t, 'read', fd, buf, 64);
    assert.equal(n, 30);
    assert.equal(str(t, buf, 5), 'root:');
    assert.equal(sys(t, 'read', fd, buf, 64), 0);
    assert.equal(sys(t, 'close', fd), 0);
    assert.equal(sys(t, 'close', fd), -Errno.EBADF);
    assert.equal(sys(t, 'read', 7, buf, 1), -Errno.EBADF);
    assert.equal(sys(t, 'write', 7, buf, 1), -Errno.EBADF);
  });

  it('answers EFAULT for bad buffers and paths without moving the offset', () => {
    const t = makeTask();
    const fd = open(t, '/etc/passwd', O_RDONLY);
    assert.equal(sys(t, 'read', fd, t.mem.bad, 10), -Errno.EFAULT);
    const buf = t.mem.alloc(8);
    assert.equal(sys(t, 'read', fd, buf, 5), 5);
    assert.equal(str(t, buf, 5), 'root:');
    assert.equal(sys(t, 'open', t.mem.bad, O_RDONLY), -Errno.EFAULT);
    const w = open(t, '/tmp/f', O_WRONLY | O_CREAT, 0o644);
    assert.equal(sys(t, 'write', w, t.mem.bad, 4), -Errno.EFAULT);
    assert.equal(sys(t, 'read', fd, buf, -1), -Errno.EINVAL);
  });

  it('enforces the access mode', () => {
    const t = makeTask();
    const r = open(t, '/etc/passwd', O_RDONLY);
    const w = open(t, '/tmp/f', O_WRONLY | O_CREAT, 0o644);
    const buf = t.mem.string('data');
    assert.equal(sys(t, 'write', r, buf, 4), -Errno.EBADF);
    assert.equal(sys(t, 'read', w, buf, 4), -Errno.EBADF);
    assert.equal(sys(t, 'write', w, buf, 4), 4);
    const p = open(t, '/etc/passwd', O_PATH);
    assert.equal(sys(t, 'read', p, buf, 4), -Errno.EBADF);
  });

  it('writes, appends under O_APPEND, and clamps counts above MAX_RW_COUNT', () => {
    const t = makeTask();
    const fd = open(t, '/tmp/f', O_RDWR | O_CREAT, 0o644);
    const data = t.mem.string('hello');
    assert.equal(sys(t, 'write', fd, data, 5), 5);
    const a = open(t, '/tmp/f', O_WRONLY | O_APPEND);
    assert.equal(sys(t, 'write', a, data, 2), 2);
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_SET), 0);
    const out = t.mem.alloc(16);
    // A count past MAX_RW_COUNT is clamped (then the short file ends the read).
    assert.equal(sys(t, 'read', fd, out, BigInt(MAX_RW_COUNT) + 100n), 7);
    assert.equal(str(t, out, 7), 'hellohe');
  });

  it('openat resolves relative to a dirfd, and O_CLOEXEC sets FD_CLOEXEC', () => {
    const t = makeTask();
    const d = open(t, '/etc', O_RDONLY | O_DIRECTORY);
    const fd = sys(t, 'openat', d, t.mem.string('passwd'), O_RDONLY | O_CLOEXEC);
    assert.ok(fd > d);
    assert.equal(sys(t, 'fcntl', fd, F_GETFD), FD_CLOEXEC);
    assert.equal(sys(t, 'openat', 55, t.mem.string('passwd'), O_RDONLY), -Errno.EBADF);
    assert.equal(sys(t, 'openat', 55, t.mem.string('/etc/passwd'), O_RDONLY) >= 0, true);
    assert.equal(sys(t, 'openat', AT_FDCWD, t.mem.string('etc/nope'), O_RDONLY), -Errno.ENOENT);
  });

  it('EMFILE when the table is full', () => {
    const t = makeTask();
    t.files.limit = 2;
    assert.equal(open(t, '/etc/passwd', O_RDONLY), 0);
    assert.equal(open(t, '/etc/passwd', O_RDONLY), 1);
    assert.equal(open(t, '/etc/passwd', O_RDONLY), -Errno.EMFILE);
  });
});

describe('pipe, pipe2, sendfile', () => {
  it('pipe2 installs two ends; data flows; flags are checked', () => {
    const t = makeTask();
    const fds = t.mem.alloc(8);
    assert.equal(sys(t, 'pipe2', fds, O_CLOEXEC | O_NONBLOCK), 0);
    const v = new DataView(t.mem.read(fds, 8).buffer);
    const [r, w] = [v.getInt32(0, true), v.getInt32(4, true)];
    assert.deepEqual([r, w], [0, 1]);
    assert.equal(sys(t, 'fcntl', r, F_GETFD), FD_CLOEXEC);
    assert.equal(sys(t, 'fcntl', w, F_GETFL), O_WRONLY | O_NONBLOCK);
    assert.equal(sys(t, 'write', w, t.mem.string('ping'), 4), 4);
    const buf = t.mem.alloc(8);
    assert.equal(sys(t, 'ioctl', r, FIONREAD, buf), 0);
    assert.equal(new DataView(t.mem.read(buf, 4).buffer).getInt32(0, true), 4);
    assert.equal(sys(t, 'read', r, buf, 8), 4);
    assert.equal(str(t, buf, 4), 'ping');
    assert.equal(sys(t, 'read', r, buf, 8), -Errno.EAGAIN);
    assert.equal(sys(t, 'lseek', r, 0, SEEK_SET), -Errno.ESPIPE);
    assert.equal(sys(t, 'close', w), 0);
    assert.equal(sys(t, 'read', r, buf, 8), 0);
    assert.equal(sys(t, 'pipe2', fds, 1), -Errno.EINVAL);
    assert.equal(sys(t, 'pipe', t.mem.bad), -Errno.EFAULT);
    assert.deepEqual(t.files.fds(), [0]);
    const st = t.mem.alloc(144);
    assert.equal(sys(t, 'fstat', r, st), 0);
    assert.equal(new DataView(t.mem.read(st, 144).buffer).getUint32(24, true) & S_IFMT, 0o010000);
  });

  it('sendfile copies between files, with and without an offset', () => {
    const t = makeTask();
    const src = open(t, '/etc/passwd', O_RDONLY);
    const dst = open(t, '/tmp/copy', O_RDWR | O_CREAT, 0o644);
    assert.equal(sys(t, 'sendfile', dst, src, 0, 5), 5);
    assert.equal(sys(t, 'lseek', src, 0, SEEK_CUR), 5);
    const off = t.mem.data(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0]));
    assert.equal(sys(t, 'sendfile', dst, src, off, 100), 28);
    assert.equal(new DataView(t.mem.read(off, 8).buffer).getBigInt64(0, true), 30n);
    assert.equal(sys(t, 'lseek', src, 0, SEEK_CUR), 5);
    const buf = t.mem.alloc(64);
    assert.equal(sys(t, 'pread64', dst, buf, 64, 0), 33);
    assert.equal(str(t, buf, 8), 'root:ot:');
    assert.equal(sys(t, 'sendfile', dst, 99, 0, 5), -Errno.EBADF);
    assert.equal(sys(t, 'sendfile', src, src, 0, 5), -Errno.EBADF);
    assert.equal(sys(t, 'sendfile', dst, src, t.mem.bad, 5), -Errno.EFAULT);
    const app = open(t, '/tmp/copy', O_WRONLY | O_APPEND);
    assert.equal(sys(t, 'sendfile', app, src, 0, 5), -Errno.EINVAL);
  });
});

describe('openat2', () => {
  const how = (t: TestTask, flags: number, mode = 0, resolve = 0, extra = 0): [bigint, number] => {
    const b = new Uint8Array(24 + extra);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(flags), true);
    v.setBigUint64(8, BigInt(mode), true);
    v.setBigUint64(16, BigInt(resolve), true);
    return [t.mem.data(b), b.length];
  };
  const at2 = (t: TestTask, dirfd: number, path: string, h: [bigint, number]): number =>
    sys(t, 'openat2', dirfd, t.mem.string(path), h[0], h[1]);

  it('opens like openat and checks struct open_how strictly', () => {
    const t = makeTask();
    assert.ok(at2(t, AT_FDCWD, '/etc/passwd', how(t, O_RDONLY)) >= 0);
    assert.equal(at2(t, AT_FDCWD, '/etc/passwd', how(t, O_RDONLY, 0, 0, 8)) >= 0, true);
    const big = how(t, O_RDONLY, 0, 0, 8);
    t.mem.bytes[Number(big[0] - t.mem.base) + 30] = 1;
    assert.equal(at2(t, AT_FDCWD, '/etc/passwd', big), -Errno.E2BIG);
    assert.equal(at2(t, AT_FDCWD, '/etc/passwd', [how(t, 0)[0], 16]), -Errno.EINVAL);
    assert.equal(at2(t, AT_FDCWD, '/etc/passwd', how(t, O_RDONLY, 0o644)), -Errno.EINVAL);
    assert.equal(at2(t, AT_FDCWD, '/etc/passwd', how(t, 1 << 30)), -Errno.EINVAL);
    assert.equal(at2(t, AT_FDCWD, '/etc/passwd', how(t, O_RDONLY, 0, 0x40)), -Errno.EINVAL);
    assert.equal(at2(t, AT_FDCWD, '/etc/passwd', how(t, O_RDONLY, 0, 0x18)), -Errno.EINVAL);
    assert.equal(at2(t, AT_FDCWD, '/etc/passwd', how(t, O_PATH | O_RDWR)), -Errno.EINVAL);
    assert.ok(at2(t, AT_FDCWD, '/tmp/n', how(t, O_RDWR | O_CREAT, 0o600)) >= 0);
    assert.equal(sys(t, 'openat2', AT_FDCWD, t.mem.string('/etc'), t.mem.bad, 24), -Errno.EFAULT);
  });

  it('RESOLVE_NO_SYMLINKS, RESOLVE_BENEATH, RESOLVE_IN_ROOT', () => {
    const t = makeTask();
    assert.equal(at2(t, AT_FDCWD, '/rel', how(t, O_RDONLY, 0, 0x04)), -Errno.ELOOP);
    assert.equal(at2(t, AT_FDCWD, '/abs/passwd', how(t, O_RDONLY, 0, 0x04)), -Errno.ELOOP);
    assert.ok(at2(t, AT_FDCWD, '/etc/passwd', how(t, O_RDONLY, 0, 0x04)) >= 0);
    const etc = open(t, '/etc', O_RDONLY | O_DIRECTORY);
    assert.ok(at2(t, etc, 'passwd', how(t, O_RDONLY, 0, 0x08)) >= 0);
    assert.equal(at2(t, etc, '../etc/passwd', how(t, O_RDONLY, 0, 0x08)), -Errno.EXDEV);
    assert.equal(at2(t, etc, '/etc/passwd', how(t, O_RDONLY, 0, 0x08)), -Errno.EXDEV);
    const root = open(t, '/', O_RDONLY | O_DIRECTORY);
    assert.equal(at2(t, root, 'abs/passwd', how(t, O_RDONLY, 0, 0x08)), -Errno.EXDEV);
    assert.ok(at2(t, root, 'rel', how(t, O_RDONLY, 0, 0x08)) >= 0);
    // IN_ROOT: "/" and ".." stop at the dirfd.
    assert.ok(at2(t, etc, '/passwd', how(t, O_RDONLY, 0, 0x10)) >= 0);
    assert.ok(at2(t, etc, '../../passwd', how(t, O_RDONLY, 0, 0x10)) >= 0);
    assert.equal(at2(t, etc, '/etc/passwd', how(t, O_RDONLY, 0, 0x10)), -Errno.ENOENT);
    const f = open(t, '/etc/passwd', O_RDONLY);
    assert.equal(at2(t, f, 'x', how(t, O_RDONLY, 0, 0x10)), -Errno.ENOTDIR);
    assert.equal(at2(t, 99, 'x', how(t, O_RDONLY, 0, 0x10)), -Errno.EBADF);
  });
});

describe('pread64, pwrite64, readv, writev, lseek', () => {
  it('pread/pwrite leave the offset alone', () => {
    const t = makeTask();
    const fd = open(t, '/tmp/f', O_RDWR | O_CREAT, 0o644);
    assert.equal(sys(t, 'pwrite64', fd, t.mem.string('abcdef'), 6, 10), 6);
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_CUR), 0);
    const out = t.mem.alloc(8);
    assert.equal(sys(t, 'pread64', fd, out, 3, 12), 3);
    assert.equal(str(t, out, 3), 'cde');
    assert.equal(sys(t, 'pread64', fd, out, 3, -1), -Errno.EINVAL);
    assert.equal(sys(t, 'pread64', fd, t.mem.bad, 3, 12), -Errno.EFAULT);
    assert.equal(sys(t, 'pread64', 99, out, 3, 0), -Errno.EBADF);
    assert.equal(sys(t, 'pwrite64', 99, out, 3, 0), -Errno.EBADF);
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_END), 16);
    assert.equal(sys(t, 'lseek', fd, -20, SEEK_CUR), -Errno.EINVAL);
    assert.equal(sys(t, 'lseek', fd, 0, 9), -Errno.EINVAL);
    assert.equal(sys(t, 'lseek', 99, 0, SEEK_SET), -Errno.EBADF);
  });

  it('readv/writev scatter and gather; bad iovecs answer EFAULT; partial progress wins', () => {
    const t = makeTask();
    const fd = open(t, '/tmp/f', O_RDWR | O_CREAT, 0o644);
    const iov = (parts: Array<[bigint, number]>): bigint => {
      const b = new Uint8Array(parts.length * 16);
      const v = new DataView(b.buffer);
      parts.forEach(([base, len], i) => {
        v.setBigUint64(i * 16, base, true);
        v.setBigUint64(i * 16 + 8, BigInt(len), true);
      });
      return t.mem.data(b);
    };
    const a = t.mem.string('abc');
    const b = t.mem.string('defgh');
    assert.equal(
      sys(
        t,
        'writev',
        fd,
        iov([
          [a, 3],
          [0n, 0],
          [b, 5],
        ]),
        3,
      ),
      8,
    );
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_SET), 0);
    const x = t.mem.alloc(4);
    const y = t.mem.alloc(8);
    assert.equal(
      sys(
        t,
        'readv',
        fd,
        iov([
          [x, 2],
          [y, 8],
        ]),
        2,
      ),
      8,
    );
    assert.equal(str(t, x, 2), 'ab');
    assert.equal(str(t, y, 6), 'cdefgh');
    assert.equal(sys(t, 'readv', fd, t.mem.bad, 1), -Errno.EFAULT);
    assert.equal(sys(t, 'writev', fd, iov([[t.mem.bad, 3]]), 1), -Errno.EFAULT);
    assert.equal(
      sys(
        t,
        'writev',
        fd,
        iov([
          [a, 3],
          [t.mem.bad, 3],
        ]),
        2,
      ),
      3,
    );
    assert.equal(sys(t, 'readv', fd, iov([[x, 1]]), -1), -Errno.EINVAL);
    assert.equal(sys(t, 'readv', fd, iov([[x, 1]]), 1025), -Errno.EINVAL);
    assert.equal(sys(t, 'readv', 99, iov([[x, 1]]), 1), -Errno.EBADF);
    assert.equal(sys(t, 'writev', fd, iov([[a, -1]]), 1), -Errno.EINVAL);
    // preadv/pwritev at an offset leave the file offset; preadv2 with -1 uses it.
    const at = sys(t, 'lseek', fd, 0, SEEK_CUR);
    assert.equal(sys(t, 'pwritev', fd, iov([[b, 5]]), 1, 1), 5);
    assert.equal(sys(t, 'preadv', fd, iov([[x, 3]]), 1, 0), 3);
    assert.equal(str(t, x, 3), 'ade');
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_CUR), at);
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_SET), 0);
    assert.equal(sys(t, 'preadv2', fd, iov([[x, 2]]), 1, -1, 0, 0), 2);
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_CUR), 2);
    assert.equal(sys(t, 'preadv', fd, iov([[x, 2]]), 1, -1), -Errno.EINVAL);
    assert.equal(sys(t, 'pwritev2', fd, iov([[x, 2]]), 1, 0, 0, 0x100), -Errno.EOPNOTSUPP);
    assert.equal(sys(t, 'preadv', 99, iov([[x, 2]]), 1, 0), -Errno.EBADF);
  });
});

describe('stat family', () => {
  it('stat, lstat and fstat encode the file', () => {
    const t = makeTask();
    const buf = t.mem.alloc(144);
    assert.equal(sys(t, 'stat', t.mem.string('/bin/sh'), buf), 0);
    const s = stat(t, buf);
    assert.equal(s.mode, S_IFREG | 0o755);
    assert.equal(s.size, 4);
    assert.equal(sys(t, 'lstat', t.mem.string('/bin/sh'), buf), 0);
    assert.equal(stat(t, buf).mode & S_IFMT, S_IFLNK);
    assert.equal(stat(t, buf).size, 7);
    const fd = open(t, '/etc', O_RDONLY);
    assert.equal(sys(t, 'fstat', fd, buf), 0);
    assert.equal(stat(t, buf).mode & S_IFMT, S_IFDIR);
    assert.equal(sys(t, 'fstat', 99, buf), -Errno.EBADF);
    assert.equal(sys(t, 'fstat', fd, t.mem.bad), -Errno.EFAULT);
    assert.equal(sys(t, 'stat', t.mem.bad, buf), -Errno.EFAULT);
    assert.equal(sys(t, 'stat', t.mem.string('/nope'), buf), -Errno.ENOENT);
  });

  it('newfstatat handles dirfd, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH and bad flags', () => {
    const t = makeTask();
    const buf = t.mem.alloc(144);
    const d = open(t, '/bin', O_RDONLY);
    assert.equal(sys(t, 'newfstatat', d, t.mem.string('sh'), buf, AT_SYMLINK_NOFOLLOW), 0);
    assert.equal(stat(t, buf).mode & S_IFMT, S_IFLNK);
    const f = open(t, '/etc/passwd', O_RDONLY);
    assert.equal(sys(t, 'newfstatat', f, t.mem.string(''), buf, AT_EMPTY_PATH), 0);
    assert.equal(stat(t, buf).size, 30);
    assert.equal(sys(t, 'newfstatat', f, t.mem.string(''), buf, 0), -Errno.ENOENT);
    assert.equal(sys(t, 'newfstatat', 99, t.mem.string(''), buf, AT_EMPTY_PATH), -Errno.EBADF);
    assert.equal(sys(t, 'newfstatat', AT_FDCWD, t.mem.string('/etc'), buf, 0x8000), -Errno.EINVAL);
  });

  it('statx answers the basic stats', () => {
    const t = makeTask();
    const buf = t.mem.alloc(256);
    assert.equal(
      sys(t, 'statx', AT_FDCWD, t.mem.string('/etc/passwd'), 0, STATX_BASIC_STATS, buf),
      0,
    );
    const v = new DataView(t.mem.read(buf, 256).buffer);
    assert.equal(v.getUint32(0, true), STATX_BASIC_STATS);
    assert.equal(v.getUint16(28, true), S_IFREG | 0o644);
    assert.equal(v.getBigUint64(40, true), 30n);
    assert.equal(
      sys(t, 'statx', AT_FDCWD, t.mem.string('/etc/passwd'), 0, 0x80000000, buf),
      -Errno.EINVAL,
    );
    assert.equal(
      sys(t, 'statx', AT_FDCWD, t.mem.string('/etc/passwd'), 0, 0x7ff, t.mem.bad),
      -Errno.EFAULT,
    );
  });

  it('statfs and fstatfs describe the file system', () => {
    const t = makeTask();
    const buf = t.mem.alloc(120);
    assert.equal(sys(t, 'statfs', t.mem.string('/etc'), buf), 0);
    assert.equal(
      new DataView(t.mem.read(buf, 120).buffer).getBigInt64(0, true),
      BigInt(TMPFS_MAGIC),
    );
    const fd = open(t, '/etc', O_RDONLY);
    assert.equal(sys(t, 'fstatfs', fd, buf), 0);
    assert.equal(sys(t, 'fstatfs', 99, buf), -Errno.EBADF);
    assert.equal(sys(t, 'statfs', t.mem.string('/etc'), t.mem.bad), -Errno.EFAULT);
  });

  it('readlink and readlinkat copy the target without a NUL, truncating', () => {
    const t = makeTask();
    const buf = t.mem.alloc(64);
    assert.equal(sys(t, 'readlink', t.mem.string('/rel'), buf, 64), 10);
    assert.equal(str(t, buf, 10), 'etc/passwd');
    assert.equal(sys(t, 'readlink', t.mem.string('/rel'), buf, 3), 3);
    assert.equal(sys(t, 'readlink', t.mem.string('/etc'), buf, 64), -Errno.EINVAL);
    assert.equal(sys(t, 'readlink', t.mem.string('/rel'), buf, 0), -Errno.EINVAL);
    assert.equal(sys(t, 'readlink', t.mem.string('/rel'), t.mem.bad, 8), -Errno.EFAULT);
    const d = open(t, '/bin', O_RDONLY);
    assert.equal(sys(t, 'readlinkat', d, t.mem.string('sh'), buf, 64), 7);
    const p = sys(t, 'openat', d, t.mem.string('sh'), O_PATH | 0o400000);
    assert.equal(sys(t, 'readlinkat', p, t.mem.string(''), buf, 64), 7);
    assert.equal(str(t, buf, 7), 'busybox');
    assert.equal(sys(t, 'readlinkat', 99, t.mem.string('sh'), buf, 64), -Errno.EBADF);
  });

  it('access, faccessat and faccessat2 check with real or effective ids', () => {
    const t = makeTask(makeTree(), USER);
    assert.equal(sys(t, 'access', t.mem.string('/etc/passwd'), R_OK), 0);
    assert.equal(sys(t, 'access', t.mem.string('/etc/passwd'), W_OK), -Errno.EACCES);
    assert.equal(sys(t, 'access', t.mem.string('/bin/sh'), X_OK), 0);
    assert.equal(sys(t, 'access', t.mem.string('/etc/hosts'), R_OK), -Errno.EACCES);
    assert.equal(sys(t, 'access', t.mem.string('/nope'), 0), -Errno.ENOENT);
    assert.equal(sys(t, 'access', t.mem.string('/etc'), 8), -Errno.EINVAL);
    assert.equal(sys(t, 'faccessat', AT_FDCWD, t.mem.string('/etc/passwd'), R_OK), 0);
    // Effective uid 0 with real uid 1000 (as after a set-user-ID-root exec): access() uses
    // the real ids, AT_EACCESS the effective ones and their capabilities.
    Object.assign(t.creds, { euid: 0, fsuid: 0, capEff: CAP_FULL_SET, capPrm: CAP_FULL_SET });
    assert.equal(
      sys(t, 'faccessat2', AT_FDCWD, t.mem.string('/etc/hosts'), R_OK, 0),
      -Errno.EACCES,
    );
    assert.equal(sys(t, 'faccessat2', AT_FDCWD, t.mem.string('/etc/hosts'), R_OK, 0x200), 0);
    assert.equal(
      sys(t, 'faccessat2', AT_FDCWD, t.mem.string('/etc/hosts'), R_OK, 0x4),
      -Errno.EINVAL,
    );
    const r = makeTask();
    assert.equal(sys(r, 'access', r.mem.string('/etc/passwd'), X_OK), -Errno.EACCES);
    assert.equal(sys(r, 'access', r.mem.string('/etc/hosts'), R_OK | W_OK), 0);
  });
});

describe('dup family, fcntl, ioctl, close_range', () => {
  it('dup, dup2 and dup3 share the description', () => {
    const t = makeTask();
    const fd = open(t, '/etc/passwd', O_RDONLY);
    assert.equal(sys(t, 'dup', fd), 1);
    assert.equal(sys(t, 'dup2', fd, 5), 5);
    assert.equal(sys(t, 'dup2', fd, fd), fd);
    assert.equal(sys(t, 'dup2', 9, 5), -Errno.EBADF);
    assert.equal(sys(t, 'dup3', fd, fd, 0), -Errno.EINVAL);
    assert.equal(sys(t, 'dup3', fd, 6, 1), -Errno.EINVAL);
    assert.equal(sys(t, 'dup3', fd, 6, O_CLOEXEC), 6);
    assert.equal(sys(t, 'fcntl', 6, F_GETFD), FD_CLOEXEC);
    assert.equal(sys(t, 'dup', 99), -Errno.EBADF);
    const buf = t.mem.alloc(8);
    assert.equal(sys(t, 'read', 5, buf, 5), 5);
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_CUR), 5);
  });

  it('fcntl duplicates, gets and sets flags', () => {
    const t = makeTask();
    const fd = open(t, '/tmp/f', O_RDWR | O_CREAT, 0o644);
    assert.equal(sys(t, 'fcntl', fd, F_DUPFD, 10), 10);
    assert.equal(sys(t, 'fcntl', fd, F_DUPFD_CLOEXEC, 10), 11);
    assert.equal(sys(t, 'fcntl', 11, F_GETFD), FD_CLOEXEC);
    assert.equal(sys(t, 'fcntl', 11, F_SETFD, 0), 0);
    assert.equal(sys(t, 'fcntl', 11, F_GETFD), 0);
    assert.equal(sys(t, 'fcntl', fd, F_GETFL), O_RDWR | O_LARGEFILE);
    assert.equal(sys(t, 'fcntl', fd, F_SETFL, O_APPEND | O_NONBLOCK | O_WRONLY), 0);
    assert.equal(sys(t, 'fcntl', fd, F_GETFL), O_RDWR | O_LARGEFILE | O_APPEND | O_NONBLOCK);
    assert.equal(sys(t, 'fcntl', fd, 12345), -Errno.EINVAL);
    assert.equal(sys(t, 'fcntl', 99, F_GETFL), -Errno.EBADF);
    assert.equal(sys(t, 'fcntl', fd, F_DUPFD, -1), -Errno.EINVAL);
  });

  it('fcntl record locks are checked and granted; flock likewise', () => {
    const t = makeTask();
    const r = open(t, '/etc/passwd', O_RDONLY);
    const fl = (type: number, whence = 0, pid = 0): bigint => {
      const b = new Uint8Array(32);
      const v = new DataView(b.buffer);
      v.setInt16(0, type, true);
      v.setInt16(2, whence, true);
      v.setInt32(24, pid, true);
      return t.mem.data(b);
    };
    assert.equal(sys(t, 'fcntl', r, 6, fl(0)), 0);
    assert.equal(sys(t, 'fcntl', r, 6, fl(1)), -Errno.EBADF);
    assert.equal(sys(t, 'fcntl', r, 7, fl(2)), 0);
    assert.equal(sys(t, 'fcntl', r, 6, fl(9)), -Errno.EINVAL);
    assert.equal(sys(t, 'fcntl', r, 6, fl(0, 7)), -Errno.EINVAL);
    assert.equal(sys(t, 'fcntl', r, 37, fl(0, 0, 5)), -Errno.EINVAL);
    const q = fl(0);
    assert.equal(sys(t, 'fcntl', r, 5, q), 0);
    assert.equal(new DataView(t.mem.read(q, 2).buffer).getInt16(0, true), 2);
    assert.equal(sys(t, 'fcntl', r, 5, fl(2)), -Errno.EINVAL);
    assert.equal(sys(t, 'fcntl', r, 6, t.mem.bad), -Errno.EFAULT);
    assert.equal(sys(t, 'flock', r, 1), 0);
    assert.equal(sys(t, 'flock', r, 2 | 4), 0);
    const r2 = open(t, '/etc/passwd', O_RDONLY);
    assert.equal(sys(t, 'flock', r2, 1 | 4), -Errno.EAGAIN);
    const dupd = sys(t, 'dup', r);
    assert.equal(sys(t, 'flock', dupd, 2 | 4), 0);
    assert.equal(sys(t, 'flock', r, 8), 0);
    assert.equal(sys(t, 'flock', r2, 2 | 4), 0);
    assert.equal(sys(t, 'flock', r, 1 | 4), -Errno.EAGAIN);
    assert.equal(sys(t, 'close', r2), 0);
    assert.equal(sys(t, 'flock', r, 1 | 4), 0);
    assert.equal(sys(t, 'flock', r, 8 | 4), 0);
    assert.equal(sys(t, 'flock', r, 3), -Errno.EINVAL);
    assert.equal(sys(t, 'flock', 99, 2), -Errno.EBADF);
  });

  it('ioctl: ENOTTY for terminal requests on files, FIONREAD, FIONBIO, FIOCLEX', () => {
    const t = makeTask();
    const fd = open(t, '/etc/passwd', O_RDONLY);
    const buf = t.mem.alloc(64);
    assert.equal(sys(t, 'ioctl', fd, TCGETS, buf), -Errno.ENOTTY);
    assert.equal(sys(t, 'ioctl', fd, TIOCGWINSZ, buf), -Errno.ENOTTY);
    assert.equal(sys(t, 'ioctl', fd, FIONREAD, buf), 0);
    assert.equal(new DataView(t.mem.read(buf, 4).buffer).getInt32(0, true), 30);
    assert.equal(sys(t, 'ioctl', fd, FIONREAD, t.mem.bad), -Errno.EFAULT);
    const one = t.mem.data(new Uint8Array([1, 0, 0, 0]));
    assert.equal(sys(t, 'ioctl', fd, FIONBIO, one), 0);
    assert.equal(sys(t, 'fcntl', fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    assert.equal(sys(t, 'ioctl', fd, FIOCLEX, 0), 0);
    assert.equal(sys(t, 'fcntl', fd, F_GETFD), FD_CLOEXEC);
    assert.equal(sys(t, 'ioctl', 99, TCGETS, buf), -Errno.EBADF);
  });

  it('close_range closes or marks a range', () => {
    const t = makeTask();
    for (let i = 0; i < 5; i++) open(t, '/etc/passwd', O_RDONLY);
    assert.equal(sys(t, 'close_range', 3, 0xffffffff, 0), 0);
    assert.deepEqual(t.files.fds(), [0, 1, 2]);
    assert.equal(sys(t, 'close_range', 1, 1, CLOSE_RANGE_CLOEXEC), 0);
    assert.equal(sys(t, 'fcntl', 1, F_GETFD), FD_CLOEXEC);
    assert.equal(sys(t, 'close_range', 2, 1, 0), -Errno.EINVAL);
    assert.equal(sys(t, 'close_range', 0, 1, 1 << 5), -Errno.EINVAL);
  });
});

describe('getcwd, chdir, fchdir, getdents64', () => {
  it('getcwd follows chdir and fchdir', () => {
    const t = makeTask();
    const buf = t.mem.alloc(64);
    assert.equal(sys(t, 'getcwd', buf, 64), 2);
    assert.equal(str(t, buf, 2), '/\0');
    assert.equal(sys(t, 'chdir', t.mem.string('/abs')), 0);
    assert.equal(sys(t, 'getcwd', buf, 64), 5);
    assert.equal(str(t, buf, 5), '/etc\0');
    assert.equal(sys(t, 'getcwd', buf, 4), -Errno.ERANGE);
    assert.equal(sys(t, 'getcwd', t.mem.bad, 64), -Errno.EFAULT);
    assert.equal(sys(t, 'chdir', t.mem.string('passwd')), -Errno.ENOTDIR);
    assert.equal(sys(t, 'chdir', t.mem.string('/nope')), -Errno.ENOENT);
    const d = open(t, '/home/user', O_RDONLY);
    assert.equal(sys(t, 'fchdir', d), 0);
    assert.equal(sys(t, 'getcwd', buf, 64), 11);
    assert.equal(sys(t, 'fchdir', 99), -Errno.EBADF);
    const f = open(t, '/etc/passwd', O_RDONLY);
    assert.equal(sys(t, 'fchdir', f), -Errno.ENOTDIR);
    const u = makeTask(makeTree(), USER);
    assert.equal(sys(u, 'chdir', u.mem.string('/secret')), -Errno.EACCES);
  });

  it('getdents64 lists a directory in linux_dirent64 records, across calls', () => {
    const t = makeTask();
    const fd = open(t, '/bin', O_RDONLY | O_DIRECTORY);
    const buf = t.mem.alloc(4096);
    const n = sys(t, 'getdents64', fd, buf, 4096);
    assert.ok(n > 0);
    const names = dirents(t, buf, n);
    assert.deepEqual(
      names.map((e) => e.name),
      ['.', '..', 'busybox', 'sh'],
    );
    assert.deepEqual(
      names.map((e) => e.type),
      [4, 4, 8, 10],
    );
    assert.equal(sys(t, 'getdents64', fd, buf, 4096), 0);
    // A small buffer takes one record at a time; too small for one answers EINVAL.
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_SET), 0);
    assert.equal(sys(t, 'getdents64', fd, buf, 10), -Errno.EINVAL);
    assert.equal(sys(t, 'getdents64', fd, buf, 24), 24);
    assert.equal(dirents(t, buf, 24)[0]?.name, '.');
    assert.equal(sys(t, 'getdents64', fd, buf, 24), 24);
    assert.equal(dirents(t, buf, 24)[0]?.name, '..');
    assert.equal(sys(t, 'getdents64', fd, buf, 64), 56);
    const f = open(t, '/etc/passwd', O_RDONLY);
    assert.equal(sys(t, 'getdents64', f, buf, 4096), -Errno.ENOTDIR);
    assert.equal(sys(t, 'getdents64', 99, buf, 4096), -Errno.EBADF);
    assert.equal(sys(t, 'lseek', fd, 0, SEEK_SET), 0);
    assert.equal(sys(t, 'getdents64', fd, t.mem.bad, 4096), -Errno.EFAULT);
  });
});

describe('extended attributes', () => {
  it('resolve the file, then find nothing', () => {
    const t = makeTask();
    const name = t.mem.string('security.selinux');
    const buf = t.mem.alloc(64);
    assert.equal(sys(t, 'getxattr', t.mem.string('/etc'), name, buf, 64), -Errno.ENODATA);
    assert.equal(sys(t, 'lgetxattr', t.mem.string('/bin/sh'), name, buf, 64), -Errno.ENODATA);
    assert.equal(sys(t, 'getxattr', t.mem.string('/nope'), name, buf, 64), -Errno.ENOENT);
    assert.equal(
      sys(t, 'getxattr', t.mem.string('/etc'), t.mem.string(''), buf, 64),
      -Errno.ERANGE,
    );
    assert.equal(sys(t, 'getxattr', t.mem.bad, name, buf, 64), -Errno.EFAULT);
    assert.equal(
      sys(t, 'getxattr', t.mem.string('/etc'), t.mem.string('nonsense.x'), buf, 64),
      -Errno.EOPNOTSUPP,
    );
    assert.equal(sys(t, 'fgetxattr', 99, name, buf, 64), -Errno.EBADF);
    assert.equal(sys(t, 'listxattr', t.mem.string('/etc'), buf, 64), 0);
  });

  it('keep user attributes of a tmpfs file: set, get, list, remove, with Linux errnos', () => {
    const t = makeTask();
    const etc = t.mem.string('/etc');
    const name = t.mem.string('user.moat');
    const val = t.mem.string('abc');
    const buf = t.mem.alloc(64);
    assert.equal(sys(t, 'setxattr', etc, name, val, 3, 4), -Errno.EINVAL);
    assert.equal(sys(t, 'setxattr', etc, name, val, 65537, 0), -Errno.E2BIG);
    assert.equal(sys(t, 'setxattr', etc, name, t.mem.bad, 3, 0), -Errno.EFAULT);
    assert.equal(sys(t, 'setxattr', etc, name, val, 3, 2), -Errno.ENODATA);
    assert.equal(sys(t, 'setxattr', etc, name, val, 3, 1), 0);
    assert.equal(sys(t, 'setxattr', etc, name, val, 3, 1), -Errno.EEXIST);
    assert.equal(sys(t, 'getxattr', etc, name, buf, 0), 3);
    assert.equal(sys(t, 'getxattr', etc, name, buf, 2), -Errno.ERANGE);
    assert.equal(sys(t, 'getxattr', etc, name, t.mem.bad, 64), -Errno.EFAULT);
    assert.equal(sys(t, 'getxattr', etc, name, buf, 64), 3);
    assert.equal(sys(t, 'listxattr', etc, buf, 0), 10);
    assert.equal(sys(t, 'listxattr', etc, buf, 9), -Errno.ERANGE);
    assert.equal(sys(t, 'listxattr', etc, buf, 64), 10);
    assert.equal(sys(t, 'setxattr', etc, t.mem.string('user.'), val, 3, 0), -Errno.EINVAL);
    assert.equal(sys(t, 'lsetxattr', t.mem.string('/bin/sh'), name, val, 3, 0), -Errno.EPERM);
    assert.equal(sys(t, 'removexattr', etc, name), 0);
    assert.equal(sys(t, 'removexattr', etc, name), -Errno.ENODATA);
    assert.equal(sys(t, 'getxattr', etc, name, buf, 64), -Errno.ENODATA);
  });
});

describe('the table', () => {
  it('holds every file syscall with its Linux name', () => {
    for (const [name, nr] of Object.entries(NR)) assert.equal(fileSyscalls.get(nr)?.name, name);
    const names = [...fileSyscalls.values()].map((e) => e.name);
    assert.equal(new Set(names).size, names.length);
  });
});
