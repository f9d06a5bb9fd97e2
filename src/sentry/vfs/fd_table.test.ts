// Unit tests of the fd table: lowest-free install, dup/dup2 semantics, FD_CLOEXEC, limits,
// close_range, fork sharing and release of the last reference.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../abi/linux/errno.js';
import { O_RDONLY } from '../../abi/linux/file.js';
import { makeTask } from '../../../testlib/sentry_vfs.js';
import { FdTable } from './fd_table.js';
import { FileDescription } from './file_description.js';
import type { FileImpl } from './inode.js';
import { openPath } from './open.js';

function counted(t: ReturnType<typeof makeTask>): { f: FileDescription; released: () => number } {
  const f = openPath(t, '/etc/passwd', O_RDONLY);
  assert.ok(f instanceof FileDescription && f.impl !== null);
  let n = 0;
  const impl: FileImpl = { ...f.impl, release: () => void n++ };
  return { f: new FileDescription(f.inode, f.path, impl, f.flags), released: () => n };
}

describe('FdTable', () => {
  it('installs at the lowest free fd and closes', () => {
    const t = makeTask();
    const tab = new FdTable();
    const { f } = counted(t);
    assert.equal(tab.install(f), 0);
    f.incRef();
    assert.equal(tab.install(f), 1);
    f.incRef();
    assert.equal(tab.install(f, false, 10), 10);
    assert.equal(tab.close(0), 0);
    assert.equal(tab.close(0), -Errno.EBADF);
    assert.equal(tab.dup(1), 0);
    assert.deepEqual(tab.fds(), [0, 1, 10]);
    assert.equal(tab.close(-1), -Errno.EBADF);
  });

  it('releases the file when the last fd closes', () => {
    const t = makeTask();
    const tab = new FdTable();
    const { f, released } = counted(t);
    const fd = tab.install(f);
    const fd2 = tab.dup(fd);
    tab.close(fd);
    assert.equal(released(), 0);
    const child = tab.fork();
    tab.close(fd2);
    assert.equal(released(), 0);
    child.closeAll();
    assert.equal(released(), 1);
  });

  it('dup2 replaces the target, and answers the same fd for oldfd === newfd', () => {
    const t = makeTask();
    const tab = new FdTable();
    const a = counted(t);
    const b = counted(t);
    tab.install(a.f);
    tab.install(b.f);
    assert.equal(tab.dup2(0, 1), 1);
    assert.equal(b.released(), 1);
    assert.equal(tab.get(1), a.f);
    assert.equal(tab.dup2(0, 0), 0);
    assert.equal(tab.dup2(5, 0), -Errno.EBADF);
    assert.equal(tab.dup2(0, -1), -Errno.EBADF);
    assert.equal(tab.dup2(0, 1 << 20), -Errno.EBADF);
  });

  it('keeps FD_CLOEXEC per fd and closes those on exec', () => {
    const t = makeTask();
    const tab = new FdTable();
    const { f } = counted(t);
    tab.install(f, true);
    assert.equal(tab.dup(0), 1);
    assert.equal(tab.getCloexec(0), true);
    assert.equal(tab.getCloexec(1), false);
    assert.equal(tab.getCloexec(2), -Errno.EBADF);
    tab.closeOnExec();
    assert.deepEqual(tab.fds(), [1]);
  });

  it('bounds fds by the limit (EMFILE) and close_range closes or marks', () => {
    const t = makeTask();
    const tab = new FdTable(3);
    const { f } = counted(t);
    tab.install(f);
    assert.equal(tab.dup(0), 1);
    assert.equal(tab.dup(0), 2);
    assert.equal(tab.dup(0), -Errno.EMFILE);
    assert.equal(tab.dup(0, 5), -Errno.EINVAL);
    tab.closeRange(1, 100, true);
    assert.equal(tab.getCloexec(2), true);
    tab.closeRange(1, 1, false);
    assert.deepEqual(tab.fds(), [0, 2]);
  });
});
