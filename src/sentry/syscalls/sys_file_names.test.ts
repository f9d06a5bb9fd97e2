// Unit tests of the name- and attribute-changing file syscalls on tmpfs through the test
// AppMemory: mkdir, rmdir, unlink, symlink, link, rename, creat, chmod, chown, truncate,
// utimensat, fsync — results, Linux's error order, bad pointers and bad fds.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../abi/linux/errno.js';
import {
  AT_FDCWD,
  AT_REMOVEDIR,
  O_DIRECTORY,
  O_RDONLY,
  O_RDWR,
  O_PATH,
} from '../../abi/linux/file.js';
import { USER, makeTask, makeTree, type TestTask } from '../../../testlib/sentry_vfs.js';
import { mountRoot, newRootMount } from '../vfs/mount.js';
import { fileSyscalls } from './sys_file.js';

const NR: Record<string, number> = {
  open: 2,
  read: 0,
  write: 1,
  stat: 4,
  lstat: 6,
  rename: 82,
  mkdir: 83,
  rmdir: 84,
  creat: 85,
  link: 86,
  unlink: 87,
  symlink: 88,
  readlink: 89,
  chmod: 90,
  fchmod: 91,
  chown: 92,
  fchown: 93,
  lchown: 94,
  truncate: 76,
  ftruncate: 77,
  fsync: 74,
  fdatasync: 75,
  mkdirat: 258,
  fchownat: 260,
  unlinkat: 263,
  renameat: 264,
  linkat: 265,
  symlinkat: 266,
  fchmodat: 268,
  utimensat: 280,
  renameat2: 316,
  fadvise64: 221,
  sync: 162,
  syncfs: 306,
  fallocate: 285,
  chroot: 161,
  mknod: 133,
  mknodat: 259,
  close: 3,
  getcwd: 79,
};

function sys(t: TestTask, name: string, ...args: Array<number | bigint>): number {
  const nr = NR[name];
  assert.ok(nr !== undefined, name);
  const e = fileSyscalls.get(nr);
  assert.ok(e !== undefined && e.name === name, name);
  const a = [0n, 0n, 0n, 0n, 0n, 0n] as [bigint, bigint, bigint, bigint, bigint, bigint];
  args.forEach((v, i) => (a[i] = BigInt.asUintN(64, BigInt(v))));
  return Number(e.handler(t, a));
}

function s(t: TestTask, v: string): bigint {
  return t.mem.string(v);
}

function statOf(
  t: TestTask,
  path: string,
  l = false,
):
  | {
      mode: number;
      uid: number;
      gid: number;
      size: number;
      nlink: number;
      atime: number;
      mtime: number;
    }
  | number {
  const buf = t.mem.alloc(144);
  const r = sys(t, l ? 'lstat' : 'stat', s(t, path), buf);
  if (r < 0) return r;
  const v = new DataView(t.mem.read(buf, 144).buffer);
  return {
    nlink: Number(v.getBigUint64(16, true)),
    mode: v.getUint32(24, true),
    uid: v.getUint32(28, true),
    gid: v.getUint32(32, true),
    size: Number(v.getBigInt64(48, true)),
    atime: Number(v.getBigInt64(72, true)),
    mtime: Number(v.getBigInt64(88, true)),
  };
}

function field(
  x: ReturnType<typeof statOf>,
  k: 'mode' | 'uid' | 'gid' | 'size' | 'nlink' | 'atime' | 'mtime',
): number {
  assert.ok(typeof x !== 'number', 'stat failed');
  return x[k];
}

describe('mkdir, rmdir, unlink', () => {
  it('make and remove directories with Linux errors', () => {
    const t = makeTask();
    assert.equal(sys(t, 'mkdir', s(t, '/tmp/d'), 0o777), 0);
    assert.equal(field(statOf(t, '/tmp/d'), 'mode'), 0o40755);
    assert.equal(sys(t, 'mkdir', s(t, '/tmp/d'), 0o777), -Errno.EEXIST);
    assert.equal(sys(t, 'mkdir', s(t, '/tmp/d/'), 0o777), -Errno.EEXIST);
    assert.equal(sys(t, 'mkdir', s(t, '/nope/d'), 0o777), -Errno.ENOENT);
    assert.equal(sys(t, 'mkdir', s(t, '/etc/passwd/d'), 0o777), -Errno.ENOTDIR);
    assert.equal(sys(t, 'mkdir', t.mem.bad, 0o777), -Errno.EFAULT);
    assert.equal(sys(t, 'mkdirat', AT_FDCWD, s(t, '/tmp/d/e/'), 0o700), 0);
    assert.equal(sys(t, 'rmdir', s(t, '/tmp/d')), -Errno.ENOTEMPTY);
    assert.equal(sys(t, 'unlink', s(t, '/tmp/d/e')), -Errno.EISDIR);
    assert.equal(sys(t, 'rmdir', s(t, '/tmp/d/e/.')), -Errno.EINVAL);
    assert.equal(sys(t, 'rmdir', s(t, '/tmp/d/e')), 0);
    assert.equal(sys(t, 'unlinkat', AT_FDCWD, s(t, '/tmp/d'), AT_REMOVEDIR), 0);
    assert.equal(statOf(t, '/tmp/d'), -Errno.ENOENT);
    assert.equal(sys(t, 'rmdir', s(t, '/etc/passwd')), -Errno.ENOTDIR);
    assert.equal(sys(t, 'unlinkat', AT_FDCWD, s(t, '/tmp/x'), 1), -Errno.EINVAL);
    assert.equal(sys(t, 'mkdirat', 99, s(t, 'x'), 0o700), -Errno.EBADF);
  });

  it("unlink removes files and links; the sticky bit protects others' files", () => {
    const t = makeTask();
    const fd = sys(t, 'creat', s(t, '/tmp/f'), 0o644);
    assert.ok(fd >= 0);
    assert.equal(sys(t, 'link', s(t, '/tmp/f'), s(t, '/tmp/g')), 0);
    assert.equal(field(statOf(t, '/tmp/g'), 'nlink'), 2);
    assert.equal(sys(t, 'unlink', s(t, '/tmp/f')), 0);
    assert.equal(field(statOf(t, '/tmp/g'), 'nlink'), 1);
    assert.equal(sys(t, 'unlink', s(t, '/tmp/f')), -Errno.ENOENT);
    assert.equal(sys(t, 'unlink', s(t, '/tmp/g/')), -Errno.ENOTDIR);
    // The open file still works after its last name is gone.
    assert.equal(sys(t, 'write', fd, s(t, 'abc'), 3), 3);
    const u = makeTask(makeTree(), USER);
    sys(u, 'creat', s(u, '/tmp/mine'), 0o666);
    assert.equal(sys(u, 'unlink', s(u, '/tmp/mine')), 0);
    assert.equal(sys(u, 'unlink', s(u, '/etc/passwd')), -Errno.EACCES);
    const shared = makeTree();
    const root = makeTask(shared);
    sys(root, 'creat', s(root, '/tmp/roots'), 0o666);
    const user = makeTask(shared, USER);
    assert.equal(sys(user, 'unlink', s(user, '/tmp/roots')), -Errno.EPERM);
  });

  it('answers EROFS on a read-only mount and EBUSY on mount points', () => {
    const t = makeTask();
    t.fs.root = mountRoot(newRootMount(makeTree(), true));
    t.fs.cwd = t.fs.root;
    assert.equal(sys(t, 'mkdir', s(t, '/tmp/x'), 0o700), -Errno.EROFS);
    assert.equal(sys(t, 'mkdir', s(t, '/tmp'), 0o700), -Errno.EEXIST);
    assert.equal(sys(t, 'unlink', s(t, '/etc/passwd')), -Errno.EROFS);
    assert.equal(sys(t, 'creat', s(t, '/tmp/x'), 0o600), -Errno.EROFS);
  });
});

describe('mknod', () => {
  it('makes regular files and FIFOs; FIFOs carry data between opens', () => {
    const t = makeTask();
    assert.equal(sys(t, 'mknod', s(t, '/tmp/reg'), 0o100640, 0), 0);
    assert.equal(field(statOf(t, '/tmp/reg'), 'mode'), 0o100640);
    assert.equal(sys(t, 'mknod', s(t, '/tmp/reg2'), 0o644, 0), 0);
    assert.equal(field(statOf(t, '/tmp/reg2'), 'mode'), 0o100644);
    assert.equal(sys(t, 'mknodat', AT_FDCWD, s(t, '/tmp/fifo'), 0o10666, 0), 0);
    assert.equal(field(statOf(t, '/tmp/fifo'), 'mode'), 0o10644);
    assert.equal(sys(t, 'mknod', s(t, '/tmp/fifo'), 0o10666, 0), -Errno.EEXIST);
    assert.equal(sys(t, 'mknod', s(t, '/tmp/dev'), 0o20666, 0x103), -Errno.EPERM);
    assert.equal(sys(t, 'mknod', s(t, '/tmp/dir'), 0o40755, 0), -Errno.EPERM);
    assert.equal(sys(t, 'mknod', s(t, '/tmp/bad'), 0o70755, 0), -Errno.EINVAL);
    assert.equal(sys(t, 'open', s(t, '/tmp/fifo'), 0o1 | 0o4000), -Errno.ENXIO);
    const r = sys(t, 'open', s(t, '/tmp/fifo'), O_RDONLY | 0o4000);
    const w = sys(t, 'open', s(t, '/tmp/fifo'), 0o1);
    assert.ok(r >= 0 && w >= 0);
    assert.equal(sys(t, 'write', w, s(t, 'through'), 7), 7);
    const buf = t.mem.alloc(16);
    assert.equal(sys(t, 'read', r, buf, 16), 7);
    assert.equal(Buffer.from(t.mem.read(buf, 7)).toString(), 'through');
    assert.equal(sys(t, 'close', w), 0);
    assert.equal(sys(t, 'read', r, buf, 16), 0);
  });
});

describe('symlink, readlink, link, rename', () => {
  it('symlink makes links that resolve', () => {
    const t = makeTask();
    assert.equal(sys(t, 'symlink', s(t, '../etc/passwd'), s(t, '/tmp/l')), 0);
    assert.equal(field(statOf(t, '/tmp/l'), 'size'), 30);
    assert.equal(field(statOf(t, '/tmp/l', true), 'mode') & 0o170000, 0o120000);
    assert.equal(sys(t, 'symlink', s(t, 'x'), s(t, '/tmp/l')), -Errno.EEXIST);
    assert.equal(sys(t, 'symlink', s(t, ''), s(t, '/tmp/m')), -Errno.ENOENT);
    assert.equal(sys(t, 'symlinkat', s(t, 'x'), 99, s(t, 'm')), -Errno.EBADF);
    assert.equal(sys(t, 'symlink', t.mem.bad, s(t, '/tmp/m')), -Errno.EFAULT);
  });

  it('link refuses directories and existing names', () => {
    const t = makeTask();
    assert.equal(sys(t, 'link', s(t, '/etc'), s(t, '/tmp/e')), -Errno.EPERM);
    assert.equal(sys(t, 'link', s(t, '/etc/passwd'), s(t, '/etc/hosts')), -Errno.EEXIST);
    assert.equal(sys(t, 'link', s(t, '/nope'), s(t, '/tmp/x')), -Errno.ENOENT);
    assert.equal(sys(t, 'linkat', AT_FDCWD, s(t, '/bin/sh'), AT_FDCWD, s(t, '/tmp/sh'), 0), 0);
    assert.equal(field(statOf(t, '/tmp/sh', true), 'mode') & 0o170000, 0o120000);
    assert.equal(sys(t, 'linkat', AT_FDCWD, s(t, '/bin/sh'), AT_FDCWD, s(t, '/tmp/sh2'), 0x400), 0);
    assert.equal(field(statOf(t, '/tmp/sh2', true), 'mode') & 0o170000, 0o100000);
    assert.equal(
      sys(t, 'linkat', AT_FDCWD, s(t, '/bin/sh'), AT_FDCWD, s(t, '/tmp/x'), 0x8),
      -Errno.EINVAL,
    );
  });

  it('rename moves and replaces with Linux checks', () => {
    const t = makeTask();
    sys(t, 'creat', s(t, '/tmp/a'), 0o644);
    sys(t, 'creat', s(t, '/tmp/b'), 0o644);
    sys(t, 'mkdir', s(t, '/tmp/d'), 0o755);
    sys(t, 'mkdir', s(t, '/tmp/d/sub'), 0o755);
    assert.equal(sys(t, 'rename', s(t, '/tmp/a'), s(t, '/tmp/c')), 0);
    assert.equal(statOf(t, '/tmp/a'), -Errno.ENOENT);
    assert.equal(sys(t, 'rename', s(t, '/tmp/c'), s(t, '/tmp/b')), 0);
    assert.equal(sys(t, 'rename', s(t, '/tmp/b'), s(t, '/tmp/d')), -Errno.EISDIR);
    assert.equal(sys(t, 'rename', s(t, '/tmp/d'), s(t, '/tmp/b')), -Errno.ENOTDIR);
    assert.equal(sys(t, 'rename', s(t, '/tmp/d'), s(t, '/tmp/d/sub/x')), -Errno.EINVAL);
    assert.equal(sys(t, 'rename', s(t, '/tmp/b'), s(t, '/tmp/b')), 0);
    assert.equal(sys(t, 'rename', s(t, '/tmp/nope'), s(t, '/tmp/x')), -Errno.ENOENT);
    assert.equal(sys(t, 'rename', s(t, '/tmp/b/'), s(t, '/tmp/x')), -Errno.ENOTDIR);
    assert.equal(sys(t, 'rename', s(t, '/tmp/.'), s(t, '/tmp/x')), -Errno.EBUSY);
    assert.equal(
      sys(t, 'renameat2', AT_FDCWD, s(t, '/tmp/b'), AT_FDCWD, s(t, '/tmp/d/sub'), 1),
      -Errno.EEXIST,
    );
    assert.equal(
      sys(t, 'renameat2', AT_FDCWD, s(t, '/tmp/b'), AT_FDCWD, s(t, '/tmp/z'), 2),
      -Errno.EINVAL,
    );
    sys(t, 'mkdir', s(t, '/tmp/e'), 0o755);
    assert.equal(sys(t, 'rename', s(t, '/tmp/e'), s(t, '/tmp/d')), -Errno.ENOTEMPTY);
    assert.equal(sys(t, 'renameat', AT_FDCWD, s(t, '/tmp/d'), AT_FDCWD, s(t, '/tmp/e')), 0);
    assert.equal(field(statOf(t, '/tmp/e/sub'), 'mode') & 0o170000, 0o40000);
    // ".." of the moved directory is its new parent.
    assert.equal(sys(t, 'mkdir', s(t, '/tmp/e/sub/../new'), 0o755), 0);
    assert.equal(field(statOf(t, '/tmp/e/new'), 'mode') & 0o170000, 0o40000);
  });
});

describe('chmod, chown, truncate, utimensat, fsync', () => {
  it('chmod: owner or root', () => {
    const t = makeTask();
    assert.equal(sys(t, 'chmod', s(t, '/etc/passwd'), 0o600), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'mode'), 0o100600);
    const fd = sys(t, 'open', s(t, '/etc/passwd'), O_RDONLY);
    assert.equal(sys(t, 'fchmod', fd, 0o4755), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'mode'), 0o104755);
    assert.equal(sys(t, 'fchmodat', AT_FDCWD, s(t, '/bin/sh'), 0o700), 0);
    assert.equal(field(statOf(t, '/bin/busybox'), 'mode'), 0o100700);
    assert.equal(sys(t, 'fchmod', 99, 0o700), -Errno.EBADF);
    const p = sys(t, 'open', s(t, '/etc/passwd'), O_PATH);
    assert.equal(sys(t, 'fchmod', p, 0o700), -Errno.EBADF);
    const u = makeTask(makeTree(), USER);
    assert.equal(sys(u, 'chmod', s(u, '/etc/passwd'), 0o777), -Errno.EPERM);
    assert.equal(sys(u, 'chmod', s(u, '/home/user'), 0o700), 0);
  });

  it('chown: root changes owners; users only their groups', () => {
    const t = makeTask();
    assert.equal(sys(t, 'chown', s(t, '/etc/passwd'), 5, 6), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'uid'), 5);
    assert.equal(field(statOf(t, '/etc/passwd'), 'gid'), 6);
    assert.equal(sys(t, 'chown', s(t, '/etc/passwd'), -1, 7), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'uid'), 5);
    assert.equal(sys(t, 'lchown', s(t, '/bin/sh'), 9, 9), 0);
    assert.equal(field(statOf(t, '/bin/sh', true), 'uid'), 9);
    assert.equal(field(statOf(t, '/bin/sh'), 'uid'), 0);
    assert.equal(sys(t, 'fchownat', AT_FDCWD, s(t, '/bin/sh'), 1, 1, 0x100), 0);
    assert.equal(sys(t, 'fchownat', AT_FDCWD, s(t, '/bin/sh'), 1, 1, 0x2), -Errno.EINVAL);
    const u = makeTask(makeTree(), { ...USER, groups: [50] });
    assert.equal(sys(u, 'chown', s(u, '/home/user'), 0, -1), -Errno.EPERM);
    assert.equal(sys(u, 'chown', s(u, '/home/user'), -1, 50), 0);
    assert.equal(sys(u, 'chown', s(u, '/home/user'), -1, 51), -Errno.EPERM);
    assert.equal(sys(u, 'fchown', 99, 0, 0), -Errno.EBADF);
  });

  it('truncate and ftruncate', () => {
    const t = makeTask();
    assert.equal(sys(t, 'truncate', s(t, '/etc/passwd'), 4), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'size'), 4);
    assert.equal(sys(t, 'truncate', s(t, '/etc'), 4), -Errno.EISDIR);
    assert.equal(sys(t, 'truncate', s(t, '/etc/passwd'), -1), -Errno.EINVAL);
    const ro = sys(t, 'open', s(t, '/etc/passwd'), O_RDONLY);
    assert.equal(sys(t, 'ftruncate', ro, 0), -Errno.EINVAL);
    const rw = sys(t, 'open', s(t, '/etc/passwd'), O_RDWR);
    assert.equal(sys(t, 'ftruncate', rw, 100), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'size'), 100);
    const buf = t.mem.alloc(128);
    assert.equal(sys(t, 'read', rw, buf, 128), 100);
    assert.equal(t.mem.read(buf + 4n, 1)[0], 0);
    assert.equal(sys(t, 'ftruncate', 99, 0), -Errno.EBADF);
    const u = makeTask(makeTree(), USER);
    assert.equal(sys(u, 'truncate', s(u, '/etc/passwd'), 0), -Errno.EACCES);
  });

  it('utimensat sets explicit times, now, and omits', () => {
    const t = makeTask();
    const ts = new Uint8Array(32);
    const v = new DataView(ts.buffer);
    v.setBigInt64(0, 1000n, true);
    v.setBigInt64(8, 5n, true);
    v.setBigInt64(16, 2000n, true);
    v.setBigInt64(24, BigInt((1 << 30) - 2), true);
    const before = field(statOf(t, '/etc/passwd'), 'mtime');
    assert.equal(sys(t, 'utimensat', AT_FDCWD, s(t, '/etc/passwd'), t.mem.data(ts), 0), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'atime'), 1000);
    assert.equal(field(statOf(t, '/etc/passwd'), 'mtime'), before);
    assert.equal(sys(t, 'utimensat', AT_FDCWD, s(t, '/etc/passwd'), 0, 0), 0);
    assert.ok(field(statOf(t, '/etc/passwd'), 'atime') > 1000);
    v.setBigInt64(24, 2_000_000_000n, true);
    assert.equal(
      sys(t, 'utimensat', AT_FDCWD, s(t, '/etc/passwd'), t.mem.data(ts), 0),
      -Errno.EINVAL,
    );
    assert.equal(sys(t, 'utimensat', AT_FDCWD, s(t, '/etc/passwd'), t.mem.bad, 0), -Errno.EFAULT);
    const d = sys(t, 'open', s(t, '/etc'), O_RDONLY | O_DIRECTORY);
    assert.equal(sys(t, 'utimensat', d, 0, 0, 0), 0);
    assert.equal(sys(t, 'utimensat', 99, 0, 0, 0), -Errno.EBADF);
    const u = makeTask(makeTree(), USER);
    assert.equal(sys(u, 'utimensat', AT_FDCWD, s(u, '/etc/passwd'), 0, 0), -Errno.EACCES);
  });

  it('fallocate grows files; other modes are not supported', () => {
    const t = makeTask();
    const fd = sys(t, 'open', s(t, '/etc/passwd'), O_RDWR);
    assert.equal(sys(t, 'fallocate', fd, 0, 0, 100), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'size'), 100);
    assert.equal(sys(t, 'fallocate', fd, 0, 0, 10), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'size'), 100);
    assert.equal(sys(t, 'fallocate', fd, 1, 0, 1000), 0);
    assert.equal(field(statOf(t, '/etc/passwd'), 'size'), 100);
    assert.equal(sys(t, 'fallocate', fd, 3, 0, 4), 0);
    const buf = t.mem.alloc(8);
    assert.equal(sys(t, 'read', fd, buf, 8), 8);
    assert.deepEqual([...t.mem.read(buf, 6)], [0, 0, 0, 0, 58, 120]);
    assert.equal(sys(t, 'fallocate', fd, 2, 0, 10), -Errno.EOPNOTSUPP);
    assert.equal(sys(t, 'fallocate', fd, 0x10, 0, 10), -Errno.EOPNOTSUPP);
    assert.equal(sys(t, 'fallocate', fd, 0, -1, 10), -Errno.EINVAL);
    assert.equal(sys(t, 'fallocate', fd, 0, 0, 0), -Errno.EINVAL);
    const ro = sys(t, 'open', s(t, '/etc/passwd'), O_RDONLY);
    assert.equal(sys(t, 'fallocate', ro, 0, 0, 10), -Errno.EBADF);
    assert.equal(sys(t, 'fallocate', 99, 0, 0, 10), -Errno.EBADF);
  });

  it('chroot changes the root for root only', () => {
    const t = makeTask();
    assert.equal(sys(t, 'chroot', s(t, '/etc')), 0);
    assert.equal(field(statOf(t, '/passwd'), 'size'), 30);
    assert.equal(field(statOf(t, '/../../passwd'), 'size'), 30);
    assert.equal(sys(t, 'chroot', s(t, '/passwd')), -Errno.ENOTDIR);
    const u = makeTask(makeTree(), USER);
    assert.equal(sys(u, 'chroot', s(u, '/etc')), -Errno.EPERM);
    assert.equal(sys(u, 'chroot', s(u, '/nope')), -Errno.ENOENT);
  });

  it('fsync, fdatasync, sync, syncfs, fadvise64', () => {
    const t = makeTask();
    const fd = sys(t, 'open', s(t, '/etc/passwd'), O_RDONLY);
    assert.equal(sys(t, 'fsync', fd), 0);
    assert.equal(sys(t, 'fdatasync', fd), 0);
    assert.equal(sys(t, 'fsync', 99), -Errno.EBADF);
    assert.equal(sys(t, 'sync'), 0);
    assert.equal(sys(t, 'syncfs', fd), 0);
    assert.equal(sys(t, 'fadvise64', fd, 0, 0, 4), 0);
    assert.equal(sys(t, 'fadvise64', fd, 0, 0, 9), -Errno.EINVAL);
  });
});
