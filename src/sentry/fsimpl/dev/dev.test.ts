// Unit tests of the minimal /dev: the memory devices' reads and writes, their device numbers,
// and the /proc/self/fd links.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../../abi/linux/errno.js';
import { O_RDWR, S_IFCHR, S_IFMT, makeDev } from '../../../abi/linux/file.js';
import { ROOT, makeTask, makeTree } from '../../../../testlib/sentry_vfs.js';
import { FileDescription } from '../../vfs/file_description.js';
import { mountAtPath } from '../../vfs/mount_ops.js';
import { openPath } from '../../vfs/open.js';
import { resolveAt } from '../../vfs/resolve.js';
import { newDevFilesystem } from './dev.js';

function dev(name: string): FileDescription {
  const tree = makeTree();
  tree.root.mkdir('dev', 0o755, ROOT);
  const t = makeTask(tree);
  assert.ok(typeof mountAtPath(t, '/dev', newDevFilesystem()) !== 'number');
  const f = openPath(t, `/dev/${name}`, O_RDWR);
  assert.ok(f instanceof FileDescription, name);
  return f;
}

describe('dev', () => {
  it('null, zero, full and urandom behave like Linux', () => {
    const b = new Uint8Array(16).fill(7);
    const n = dev('null');
    assert.equal(n.read(b), 0);
    assert.equal(n.write(b), 16);
    const z = dev('zero');
    assert.equal(z.read(b), 16);
    assert.ok(b.every((x) => x === 0));
    const f = dev('full');
    assert.equal(f.write(b), -Errno.ENOSPC);
    assert.equal(f.read(b), 16);
    const u = dev('urandom');
    const r = new Uint8Array(64);
    assert.equal(u.read(r), 64);
    assert.ok(r.some((x) => x !== 0));
    const st = u.stat();
    assert.ok(typeof st !== 'number');
    assert.equal(st.mode & S_IFMT, S_IFCHR);
    assert.equal(st.rdev, makeDev(1, 9));
  });

  it('links fd and stdio into /proc/self/fd', () => {
    const tree = makeTree();
    tree.root.mkdir('dev', 0o755, ROOT);
    const t = makeTask(tree);
    mountAtPath(t, '/dev', newDevFilesystem());
    const p = resolveAt(t, -100, '/dev/stdout', 0x100);
    assert.ok(typeof p !== 'number');
    assert.equal(p.dentry.inode.readlink?.(), '/proc/self/fd/1');
    assert.ok(typeof resolveAt(t, -100, '/dev/shm', 0) !== 'number');
  });
});
