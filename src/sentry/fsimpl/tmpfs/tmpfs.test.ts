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
import { TmpfsDir, TmpfsFile, TmpfsFilesystem } from './tmpfs.js';

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
