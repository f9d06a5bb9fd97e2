// Unit tests of procfs over a tmpfs root, with a test ProcSource standing in for the kernel:
// self, fd links, cwd, mounts, kernel-rendered files and directory listings.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../../abi/linux/errno.js';
import { AT_FDCWD, O_DIRECTORY, O_RDONLY } from '../../../abi/linux/file.js';
import { ROOT, makeTask, makeTree } from '../../../../testlib/sentry_vfs.js';
import { FileDescription } from '../../vfs/file_description.js';
import { mountAtPath } from '../../vfs/mount_ops.js';
import { openPath } from '../../vfs/open.js';
import { resolveAt } from '../../vfs/resolve.js';
import { newPipe } from '../pipe/pipe.js';
import { ProcFilesystem, type ProcSource, type ProcTask } from './proc.js';

const enc = new TextEncoder();

function setup(): { t: ReturnType<typeof makeTask>; proc: ProcFilesystem } {
  const tree = makeTree();
  tree.root.mkdir('proc', 0o555, ROOT);
  const t = makeTask(tree);
  const task: ProcTask = {
    pid: 1,
    uid: 0,
    gid: 0,
    files: t.files,
    fs: t.fs,
    exe: () => '/bin/busybox',
    render: (name) => (name === 'cmdline' ? enc.encode('sh\0-c\0true\0') : null),
  };
  const source: ProcSource = {
    current: () => task,
    task: (pid) => (pid === 1 ? task : null),
    pids: () => [1],
    render: (name) => (name === 'cpuinfo' ? enc.encode('processor\t: 0\n') : null),
  };
  const proc = new ProcFilesystem(source);
  assert.ok(typeof mountAtPath(t, '/proc', proc) !== 'number');
  return { t, proc };
}

function readAll(f: FileDescription | number): string {
  assert.ok(f instanceof FileDescription, 'open failed');
  const b = new Uint8Array(4096);
  const n = f.read(b);
  assert.ok(n >= 0);
  return Buffer.from(b.subarray(0, n)).toString();
}

function link(t: ReturnType<typeof makeTask>, path: string): string | number {
  const p = resolveAt(t, AT_FDCWD, path, 0x100);
  if (typeof p === 'number') return p;
  return p.dentry.inode.readlink?.() ?? -Errno.EINVAL;
}

describe('procfs', () => {
  it('resolves self, exe, cwd and fd links', () => {
    const { t } = setup();
    assert.equal(link(t, '/proc/self'), '1');
    assert.equal(link(t, '/proc/self/exe'), '/bin/busybox');
    assert.equal(link(t, '/proc/1/cwd'), '/');
    const f = openPath(t, '/etc/passwd', O_RDONLY);
    assert.ok(f instanceof FileDescription);
    t.files.install(f);
    const [r, w] = newPipe(0, 0, 0);
    t.files.install(r);
    t.files.install(w);
    assert.equal(link(t, '/proc/self/fd/0'), '/etc/passwd');
    assert.match(String(link(t, '/proc/self/fd/1')), /^pipe:\[\d+\]$/);
    assert.equal(link(t, '/proc/self/fd/7'), -Errno.ENOENT);
    assert.equal(readAll(openPath(t, '/proc/self/fd/0', O_RDONLY)).slice(0, 5), 'root:');
    assert.equal(link(t, '/proc/2'), -Errno.ENOENT);
  });

  it('renders mounts, cmdline and system files', () => {
    const { t } = setup();
    const m = readAll(openPath(t, '/proc/mounts', O_RDONLY));
    assert.match(m, /^tmpfs \/ tmpfs rw,relatime 0 0$/m);
    assert.match(m, /^proc \/proc proc rw,relatime 0 0$/m);
    assert.equal(readAll(openPath(t, '/proc/self/cmdline', O_RDONLY)), 'sh\0-c\0true\0');
    assert.equal(readAll(openPath(t, '/proc/cpuinfo', O_RDONLY)), 'processor\t: 0\n');
    assert.equal(openPath(t, '/proc/meminfo', O_RDONLY), -Errno.ENOENT);
    assert.equal(openPath(t, '/proc/self/environ', O_RDONLY), -Errno.ENOENT);
  });

  it('lists directories', () => {
    const { t } = setup();
    const names = (path: string): string[] => {
      const d = openPath(t, path, O_RDONLY | O_DIRECTORY);
      assert.ok(d instanceof FileDescription);
      const buf = new Uint8Array(4096);
      const n = d.getdents(buf);
      const v = new DataView(buf.buffer);
      const out: string[] = [];
      for (let at = 0; at < n; at += v.getUint16(at + 16, true)) {
        out.push(Buffer.from(buf.subarray(at + 19, buf.indexOf(0, at + 19))).toString());
      }
      return out;
    };
    assert.deepEqual(names('/proc'), [
      '.',
      '..',
      'self',
      'mounts',
      'filesystems',
      'net',
      'cpuinfo',
      '1',
    ]);
    assert.deepEqual(names('/proc/self/fd'), ['.', '..']);
    assert.ok(names('/proc/1').includes('exe'));
  });
});
