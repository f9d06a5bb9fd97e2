// Unit tests of tmpfs specifics: listings that stay stable while entries are removed (rm -r),
// sizes and block counts as Linux's tmpfs reports them, hard link counts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { O_DIRECTORY, O_RDONLY, S_IFREG } from '../../../abi/linux/file.js';
import { ROOT } from '../../../../testlib/sentry_vfs.js';
import { FileDescription } from '../../vfs/file_description.js';
import { FsContext } from '../../vfs/fs_context.js';
import { FdTable } from '../../vfs/fd_table.js';
import { mountRoot, newRootMount } from '../../vfs/mount.js';
import { openPath } from '../../vfs/open.js';
import { TmpfsDir, TmpfsFile, TmpfsFilesystem, tmpfsOptions } from './tmpfs.js';
import { Errno } from '../../../abi/linux/errno.js';

function names(buf: Uint8Array, n: number): string[] {
  const v = new DataView(buf.buffer);
  const out: string[] = [];
  for (let at = 0; at < n; at += v.getUint16(at + 16, true)) {
    out.push(Buffer.from(buf.subarray(at + 19, buf.indexOf(0, at + 19))).toString());
  }
  return out;
}

describe('tmpfs', () => {
  it('lists every entry once while they are removed between getdents calls', () => {
    const fs = new TmpfsFilesystem();
    const d = fs.root.mkdir('d', 0o755, ROOT);
    assert.ok(d instanceof TmpfsDir);
    for (let i = 0; i < 50; i++) d.create(`f${i}`, S_IFREG | 0o644, ROOT);
    const t = { fs: new FsContext(mountRoot(newRootMount(fs))), files: new FdTable(), creds: ROOT };
    const f = openPath(t, '/d', O_RDONLY | O_DIRECTORY);
    assert.ok(f instanceof FileDescription);
    const seen: string[] = [];
    const buf = new Uint8Array(100);
    for (;;) {
      const n: number = f.getdents(buf);
      assert.ok(n >= 0);
      if (n === 0) break;
      for (const name of names(buf, n)) {
        seen.push(name);
        if (name !== '.' && name !== '..') assert.equal(d.unlink(name), 0);
      }
    }
    assert.equal(seen.length, 52);
    assert.equal(new Set(seen).size, 52);
    assert.equal(d.children.size, 0);
  });

  it('reports sizes and blocks like Linux tmpfs', () => {
    const fs = new TmpfsFilesystem();
    const f = fs.root.create('f', S_IFREG | 0o644, ROOT);
    assert.ok(f instanceof TmpfsFile);
    f.writeAt(new Uint8Array(5000), 0);
    assert.equal(f.stat().size, 5000);
    assert.equal(f.stat().blocks, 16);
    assert.equal(fs.root.stat().size, 60);
    assert.equal(fs.root.stat().blocks, 0);
    assert.equal(fs.root.link('g', f), 0);
    assert.equal(f.stat().nlink, 2);
  });
});

describe('tmpfs mount options', () => {
  it('reads mode=, size= (units, percent) and nr_inodes=, with Linux defaults', () => {
    const g = 1 << 30;
    assert.deepEqual(tmpfsOptions(['mode=1777', 'size=1m', 'nr_inodes=10k'], 4 * g), {
      sizeBytes: 1 << 20,
      maxInodes: 10240,
      mode: 0o1777,
    });
    assert.deepEqual(tmpfsOptions(['size=25%'], 4 * g), {
      sizeBytes: g,
      maxInodes: (4 * g) / 4096 / 2,
    });
    assert.deepEqual(tmpfsOptions(['size=0', 'nr_inodes=0', 'nosuid'], 4 * g), {});
    assert.equal(tmpfsOptions(['size=lots'], g), 'size=lots');
    assert.equal(tmpfsOptions(['nr_inodes=5%'], g), 'nr_inodes=5%');
    assert.equal(tmpfsOptions(['mode=999'], g), 'mode=999');
  });
  it('size= holds file data to whole pages; an unlinked open file keeps its pages', () => {
    const fs = new TmpfsFilesystem({ sizeBytes: 8192 });
    const root = fs.root;
    const f = root.create('a', 0o644, ROOT);
    assert.ok(f instanceof TmpfsFile);
    const h = f.open(0);
    assert.ok(typeof h !== 'number');
    assert.equal(f.writeAt(new Uint8Array(10000), 0), 8192, 'a short write up to the limit');
    assert.equal(f.writeAt(new Uint8Array(1), 8192), -Errno.ENOSPC);
    assert.equal(root.unlink('a'), 0);
    assert.equal(fs.usedPages, 2, 'still open');
    h.release();
    assert.equal(fs.usedPages, 0);
  });
});
