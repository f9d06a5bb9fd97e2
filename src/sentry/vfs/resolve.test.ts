// Unit tests of path resolution and open on tmpfs: absolute and relative paths, "..", symlinks,
// ELOOP, trailing slashes, permissions, mounts, O_CREAT/O_EXCL/O_NOFOLLOW/O_DIRECTORY/O_PATH.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../abi/linux/errno.js';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  S_IFLNK,
  S_IFMT,
} from '../../abi/linux/file.js';
import { TmpfsFilesystem } from '../fsimpl/tmpfs/tmpfs.js';
import { USER, makeTask, makeTree } from '../../../testlib/sentry_vfs.js';
import { FileDescription } from './file_description.js';
import { mountAtPath } from './mount_ops.js';
import { mountAt, mountRoot, newRootMount, pathString } from './mount.js';
import { openAt, openExecutable, openPath } from './open.js';
import { resolveAt, walkPath } from './resolve.js';

const dec = new TextDecoder();

function readAll(f: FileDescription | number): string {
  assert.ok(f instanceof FileDescription, 'open failed');
  const b = new Uint8Array(4096);
  const n = f.read(b);
  assert.ok(n >= 0);
  return dec.decode(b.subarray(0, n));
}

function where(t: ReturnType<typeof makeTask>, path: string, flags = 0): string | number {
  const p = resolveAt(t, AT_FDCWD, path, flags);
  if (typeof p === 'number') return p;
  return pathString(p, t.fs.root) ?? '?';
}

describe('path resolution', () => {
  it('resolves absolute and relative paths, "." and ".."', () => {
    const t = makeTask();
    assert.equal(where(t, '/etc/passwd'), '/etc/passwd');
    assert.equal(where(t, 'etc/./passwd'), '/etc/passwd');
    assert.equal(where(t, '//etc///passwd'), '/etc/passwd');
    assert.equal(where(t, '/bin/../etc'), '/etc');
    assert.equal(where(t, '/'), '/');
  });

  it('never goes above the root with ".."', () => {
    const t = makeTask();
    assert.equal(where(t, '/../../..'), '/');
    assert.equal(where(t, '../etc/../../etc/passwd'), '/etc/passwd');
    const etc = walkPath(t, t.fs.root, '/etc', true);
    assert.ok(typeof etc !== 'number');
    t.fs.root = etc;
    t.fs.cwd = etc;
    assert.equal(where(t, '../../passwd'), '/passwd');
  });

  it('answers ENOENT, ENOTDIR and empty paths like Linux', () => {
    const t = makeTask();
    assert.equal(where(t, '/nope'), -Errno.ENOENT);
    assert.equal(where(t, '/nope/x'), -Errno.ENOENT);
    assert.equal(where(t, '/etc/passwd/x'), -Errno.ENOTDIR);
    assert.equal(where(t, '/etc/passwd/'), -Errno.ENOTDIR);
    assert.equal(where(t, '/etc/passwd/.'), -Errno.ENOTDIR);
    assert.equal(where(t, ''), -Errno.ENOENT);
    assert.equal(where(t, '', AT_EMPTY_PATH), '/');
    assert.equal(where(t, '/etc/'), '/etc');
  });

  it('follows symlinks, relative and absolute, and not a final one under NOFOLLOW', () => {
    const t = makeTask();
    assert.equal(where(t, '/rel'), '/etc/passwd');
    assert.equal(where(t, '/abs/passwd'), '/etc/passwd');
    assert.equal(where(t, '/bin/sh'), '/bin/busybox');
    assert.equal(where(t, '/bin/sh', AT_SYMLINK_NOFOLLOW), '/bin/sh');
    assert.equal(where(t, '/abs/', AT_SYMLINK_NOFOLLOW), '/etc');
    assert.equal(where(t, '/dangling'), -Errno.ENOENT);
    assert.equal(where(t, '/dangling', AT_SYMLINK_NOFOLLOW), '/dangling');
    assert.equal(where(t, '/rel/'), -Errno.ENOTDIR);
  });

  it('answers ELOOP for symlink cycles and past 40 links', () => {
    const t = makeTask();
    assert.equal(where(t, '/loop1'), -Errno.ELOOP);
    assert.equal(where(t, '/loop1/x'), -Errno.ELOOP);
    const fs = makeTree();
    for (let i = 0; i < 41; i++) fs.root.symlink(`l${i}`, i === 0 ? 'etc' : `l${i - 1}`, t.creds);
    const t2 = makeTask(fs);
    assert.equal(where(t2, '/l39'), '/etc');
    assert.equal(where(t2, '/l40'), -Errno.ELOOP);
  });

  it('answers ENAMETOOLONG past NAME_MAX and PATH_MAX', () => {
    const t = makeTask();
    assert.equal(where(t, '/' + 'a'.repeat(256)), -Errno.ENAMETOOLONG);
    assert.equal(where(t, '/' + 'a'.repeat(255)), -Errno.ENOENT);
    assert.equal(where(t, '/'.repeat(4096)), -Errno.ENAMETOOLONG);
    assert.equal(where(t, '/'.repeat(4095)), '/');
  });

  it('checks search permission for unprivileged users; root bypasses', () => {
    const t = makeTask(makeTree(), USER);
    assert.equal(where(t, '/secret/key'), -Errno.EACCES);
    assert.equal(where(t, '/secret'), '/secret');
    const r = makeTask();
    assert.equal(where(r, '/secret/key'), '/secret/key');
  });

  it('resolves relative to a dirfd and rejects non-directory dirfds', () => {
    const t = makeTask();
    const d = openPath(t, '/etc', O_RDONLY | O_DIRECTORY);
    assert.ok(d instanceof FileDescription);
    const dfd = t.files.install(d);
    const p = resolveAt(t, dfd, 'passwd', 0);
    assert.ok(typeof p !== 'number');
    assert.equal(pathString(p, t.fs.root), '/etc/passwd');
    const f = openPath(t, '/etc/passwd', O_RDONLY);
    assert.ok(f instanceof FileDescription);
    const ffd = t.files.install(f);
    assert.equal(resolveAt(t, ffd, 'x', 0), -Errno.ENOTDIR);
    assert.equal(resolveAt(t, 99, 'x', 0), -Errno.EBADF);
    assert.equal(pathString(resolveAt(t, 99, '/etc', 0) as never, t.fs.root), '/etc');
  });

  it('crosses mounts downward and ".." upward', () => {
    const t = makeTask();
    const tmp = new TmpfsFilesystem();
    tmp.root.mkdir('inner', 0o755, t.creds);
    const m = mountAtPath(t, '/tmp', tmp);
    assert.ok(typeof m !== 'number');
    assert.equal(where(t, '/tmp/inner'), '/tmp/inner');
    assert.equal(where(t, '/tmp/inner/../..'), '/');
    assert.equal(where(t, '/tmp/..'), '/');
    const p = resolveAt(t, AT_FDCWD, '/tmp/inner', 0);
    assert.ok(typeof p !== 'number');
    assert.equal(p.dentry.inode.fs, tmp);
    assert.equal(mountAtPath(t, '/etc/passwd', tmp), -Errno.ENOTDIR);
    // RESOLVE_NO_XDEV refuses crossings either way.
    assert.equal(
      walkPath(t, t.fs.root, '/tmp/inner', true, { links: 0 }, { noXdev: true }),
      -Errno.EXDEV,
    );
    const inner = walkPath(t, t.fs.root, '/tmp/inner', true);
    assert.ok(typeof inner !== 'number');
    assert.equal(walkPath(t, inner, '../..', true, { links: 0 }, { noXdev: true }), -Errno.EXDEV);
    assert.ok(typeof walkPath(t, inner, '..', true, { links: 0 }, { noXdev: true }) !== 'number');
    // A mount stacked on a mount's root covers it.
    const top = new TmpfsFilesystem();
    const at = resolveAt(t, AT_FDCWD, '/tmp', 0);
    assert.ok(typeof at !== 'number');
    mountAt(at, top);
    const q = resolveAt(t, AT_FDCWD, '/tmp', 0);
    assert.ok(typeof q !== 'number');
    assert.equal(q.dentry.inode.fs, top);
  });
});

describe('openExecutable', () => {
  it('needs execute permission on a regular file, not read permission', () => {
    const fs = makeTree();
    const t = makeTask(fs, USER);
    const f = openExecutable(t, '/bin/sh');
    assert.ok(f instanceof FileDescription);
    assert.equal(f.pread(new Uint8Array(4), 0), 4);
    assert.equal(openExecutable(t, '/etc/passwd'), -Errno.EACCES);
    assert.equal(openExecutable(t, '/etc'), -Errno.EACCES);
    assert.equal(openExecutable(t, '/nope'), -Errno.ENOENT);
    const bb = walkPath(t, t.fs.root, '/bin/busybox', true);
    assert.ok(typeof bb !== 'number');
    const inode = bb.dentry.inode;
    assert.ok(inode.setattr !== undefined);
    inode.setattr({ mode: 0o100711 });
    assert.equal(openPath(t, '/bin/busybox', O_RDONLY), -Errno.EACCES);
    assert.ok(openExecutable(t, '/bin/busybox') instanceof FileDescription);
    assert.equal(openExecutable(makeTask(), '/etc/passwd'), -Errno.EACCES);
  });
});

describe('open', () => {
  it('opens and reads files, through symlinks', () => {
    const t = makeTask();
    assert.match(readAll(openPath(t, '/etc/passwd', O_RDONLY)), /^root:x:0:0/);
    assert.match(readAll(openPath(t, '/rel', O_RDONLY)), /^root:x:0:0/);
  });

  it('O_NOFOLLOW on a final symlink answers ELOOP; O_PATH|O_NOFOLLOW opens the link', () => {
    const t = makeTask();
    assert.equal(openPath(t, '/rel', O_RDONLY | O_NOFOLLOW), -Errno.ELOOP);
    const f = openPath(t, '/rel', O_PATH | O_NOFOLLOW);
    assert.ok(f instanceof FileDescription);
    assert.equal(f.inode.type & S_IFMT, S_IFLNK);
    assert.equal(f.readlink(), 'etc/passwd');
    assert.equal(f.read(new Uint8Array(4)), -Errno.EBADF);
    assert.ok(openPath(t, '/abs/passwd', O_RDONLY | O_NOFOLLOW) instanceof FileDescription);
  });

  it('O_DIRECTORY on a file answers ENOTDIR; writing a directory EISDIR', () => {
    const t = makeTask();
    assert.equal(openPath(t, '/etc/passwd', O_RDONLY | O_DIRECTORY), -Errno.ENOTDIR);
    assert.equal(openPath(t, '/etc', O_WRONLY), -Errno.EISDIR);
    assert.equal(openPath(t, '/etc', O_RDONLY | O_CREAT), -Errno.EISDIR);
    assert.equal(openPath(t, '/etc', O_RDONLY | O_TRUNC), -Errno.EISDIR);
    // Access mode 3: permission for both, then neither read nor write.
    const f3 = openPath(t, '/etc/passwd', 3);
    assert.ok(f3 instanceof FileDescription);
    assert.equal(f3.read(new Uint8Array(1)), -Errno.EBADF);
    assert.equal(f3.write(new Uint8Array(1)), -Errno.EBADF);
    const d = openPath(t, '/etc', O_RDONLY);
    assert.ok(d instanceof FileDescription);
    assert.equal(d.read(new Uint8Array(4)), -Errno.EISDIR);
  });

  it('creates under O_CREAT with the umask, honours O_EXCL and O_TRUNC', () => {
    const t = makeTask();
    const f = openAt(t, AT_FDCWD, '/tmp/new', O_RDWR | O_CREAT, 0o666);
    assert.ok(f instanceof FileDescription);
    assert.equal(f.write(Buffer.from('hello')), 5);
    const st = f.stat();
    assert.ok(typeof st !== 'number');
    assert.equal(st.mode & 0o777, 0o644);
    assert.equal(st.size, 5);
    assert.equal(openAt(t, AT_FDCWD, '/tmp/new', O_RDWR | O_CREAT | O_EXCL, 0o666), -Errno.EEXIST);
    assert.equal(openAt(t, AT_FDCWD, '/bin/sh', O_RDWR | O_CREAT | O_EXCL, 0o666), -Errno.EEXIST);
    assert.equal(readAll(openAt(t, AT_FDCWD, '/tmp/new', O_RDONLY | O_CREAT, 0o666)), 'hello');
    assert.equal(readAll(openAt(t, AT_FDCWD, '/tmp/new', O_RDWR | O_TRUNC, 0)), '');
    assert.equal(openAt(t, AT_FDCWD, '/tmp/dir/', O_RDWR | O_CREAT, 0o666), -Errno.EISDIR);
    assert.equal(openAt(t, AT_FDCWD, '/nope/x', O_RDWR | O_CREAT, 0o666), -Errno.ENOENT);
    assert.equal(openAt(t, AT_FDCWD, '/dangling', O_RDWR | O_CREAT, 0o666), -Errno.ENOENT);
  });

  it('checks permissions for users and answers EROFS on read-only mounts', () => {
    const u = makeTask(makeTree(), USER);
    assert.equal(openPath(u, '/etc/hosts', O_RDONLY), -Errno.EACCES);
    assert.equal(openPath(u, '/etc/passwd', O_WRONLY), -Errno.EACCES);
    assert.ok(openPath(u, '/etc/passwd', O_RDONLY) instanceof FileDescription);
    assert.equal(openAt(u, AT_FDCWD, '/etc/x', O_WRONLY | O_CREAT, 0o644), -Errno.EACCES);
    assert.ok(
      openAt(u, AT_FDCWD, '/home/user/x', O_WRONLY | O_CREAT, 0o644) instanceof FileDescription,
    );
    const r = makeTask();
    assert.ok(openPath(r, '/etc/hosts', O_RDWR) instanceof FileDescription);
    const ro = makeTask();
    ro.fs.root = mountRoot(newRootMount(makeTree(), true));
    ro.fs.cwd = ro.fs.root;
    assert.equal(openPath(ro, '/etc/passwd', O_WRONLY), -Errno.EROFS);
    assert.equal(openAt(ro, AT_FDCWD, '/tmp/x', O_WRONLY | O_CREAT, 0o644), -Errno.EROFS);
    assert.ok(openPath(ro, '/etc/passwd', O_RDONLY) instanceof FileDescription);
  });
});
