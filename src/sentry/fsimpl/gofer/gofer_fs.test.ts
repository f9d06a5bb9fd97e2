// Tests of the gofer file system against real 9P2000.L peers: our Gofer (a child process, with
// donated host fds) and Debian's diod (no donation, reads through Tread). Resolution, reads,
// stat, getdents, readlink, statfs, creation, and symlinks that must stay inside the container.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Errno } from '../../../abi/linux/errno.js';
import {
  AT_FDCWD,
  O_CREAT,
  O_DIRECTORY,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} from '../../../abi/linux/file.js';
import {
  DIOD,
  makeTree,
  startDiod,
  startGofer,
  type Peer,
  type Tree,
} from '../../../../testlib/p9_gofer.js';
import { ROOT } from '../../../../testlib/sentry_vfs.js';
import { TestMemory } from '../../../../testlib/sentry_memory.js';
import { FdTable } from '../../vfs/fd_table.js';
import { FileDescription } from '../../vfs/file_description.js';
import { newRootFsContext } from '../../vfs/mount_ops.js';
import { pathString } from '../../vfs/mount.js';
import { openAt, openPath } from '../../vfs/open.js';
import { mkdirAt, renameAt, symlinkAt, unlinkAt } from '../../vfs/path_ops.js';
import { resolveAt } from '../../vfs/resolve.js';
import { GoferFilesystem } from './gofer_fs.js';

function read(f: FileDescription | number): string {
  assert.ok(f instanceof FileDescription, `open: ${typeof f === 'number' ? f : ''}`);
  const b = new Uint8Array(4096);
  const n = f.read(b);
  assert.ok(n >= 0, `read: ${n}`);
  f.decRef();
  return Buffer.from(b.subarray(0, n)).toString();
}

function suite(
  name: string,
  start: (root: string) => Peer,
  donates: boolean,
  skip: string | false,
  skipBigRead: string | false,
): void {
  describe(name, { skip }, () => {
    let tree: Tree;
    let peer: Peer;
    let task: {
      fs: ReturnType<typeof newRootFsContext>;
      files: FdTable;
      creds: typeof ROOT;
      mem: TestMemory;
    };

    before(() => {
      tree = makeTree();
      peer = start(tree.root);
      const gfs = GoferFilesystem.create(peer.client);
      assert.ok(gfs instanceof GoferFilesystem);
      task = {
        fs: newRootFsContext(gfs),
        files: new FdTable(),
        creds: { ...ROOT },
        mem: new TestMemory(),
      };
    });

    after(async () => {
      await peer.stop();
      tree.cleanup();
    });

    it('opens and reads files', () => {
      assert.equal(read(openPath(task, '/hello.txt', O_RDONLY)), 'hello, gofer\n');
      assert.equal(read(openPath(task, 'dir/inner.txt', O_RDONLY)), 'inner\n');
      const f = openPath(task, '/hello.txt', O_RDONLY);
      assert.ok(f instanceof FileDescription);
      const b = new Uint8Array(5);
      assert.equal(f.pread(b, 7), 5);
      assert.equal(Buffer.from(b).toString(), 'gofer');
      f.decRef();
      assert.equal(openPath(task, '/nope', O_RDONLY), -Errno.ENOENT);
      assert.equal(openPath(task, '/hello.txt/x', O_RDONLY), -Errno.ENOTDIR);
    });

    it('reads files larger than msize in one call', { skip: skipBigRead }, () => {
      const big = Buffer.alloc(300_000);
      for (let i = 0; i < big.length; i++) big[i] = i % 251;
      fs.writeFileSync(`${tree.root}/big.bin`, big);
      const f = openPath(task, '/big.bin', O_RDONLY);
      assert.ok(f instanceof FileDescription);
      const b = new Uint8Array(1 << 20);
      assert.equal(f.read(b), big.length);
      assert.ok(Buffer.from(b.subarray(0, big.length)).equals(big));
      assert.equal(f.read(b), 0);
      f.decRef();
    });

    it('never opens special files through the Gofer', () => {
      execFileSync('mkfifo', [`${tree.root}/fifo`]);
      assert.equal(openPath(task, '/fifo', O_RDONLY), -Errno.EPERM);
      const p = resolveAt(task, AT_FDCWD, '/fifo', 0);
      assert.ok(typeof p !== 'number');
      assert.equal(p.dentry.inode.type, S_IFIFO);
    });

    it('stats with qid.path inode numbers and the mount st_dev', () => {
      const p = resolveAt(task, AT_FDCWD, '/dir/inner.txt', 0);
      assert.ok(typeof p !== 'number');
      const st = p.dentry.inode.stat();
      assert.ok(typeof st !== 'number');
      const host = fs.statSync(`${tree.root}/dir/inner.txt`);
      assert.equal(st.mode, host.mode);
      assert.equal(st.size, 6);
      assert.equal(st.dev, p.mount.fs.dev);
      assert.equal(Number(st.ino & 0xffffffffn), host.ino & 0xffffffff);
      const d = resolveAt(task, AT_FDCWD, '/dir', 0);
      assert.ok(typeof d !== 'number');
      assert.equal(d.dentry.inode.type, S_IFDIR);
    });

    it('lists directories with getdents64', () => {
      const f = openPath(task, '/dir', O_RDONLY | O_DIRECTORY);
      assert.ok(f instanceof FileDescription);
      const buf = new Uint8Array(4096);
      const n = f.getdents(buf);
      assert.ok(n > 0);
      const names: string[] = [];
      const v = new DataView(buf.buffer);
      for (let at = 0; at < n; at += v.getUint16(at + 16, true)) {
        names.push(Buffer.from(buf.subarray(at + 19, buf.indexOf(0, at + 19))).toString());
      }
      assert.deepEqual(names.slice(0, 2), ['.', '..']);
      assert.deepEqual(names.slice(2).sort(), ['inner.txt', 'up']);
      assert.equal(f.getdents(buf), 0);
      f.decRef();
    });

    it('follows symlinks inside the container only', () => {
      const where = (path: string, flags = 0): string | number => {
        const p = resolveAt(task, AT_FDCWD, path, flags);
        return typeof p === 'number' ? p : (pathString(p, task.fs.root) ?? '?');
      };
      assert.equal(where('/to_root/hello.txt'), '/hello.txt');
      assert.equal(where('/dir/up/hello.txt'), '/hello.txt');
      assert.equal(where('/to_secret'), -Errno.ENOENT);
      assert.equal(where('/to_outside/secret.txt'), -Errno.ENOENT);
      const l = resolveAt(task, AT_FDCWD, '/abs_link', 0x100);
      assert.ok(typeof l !== 'number');
      assert.equal(l.dentry.inode.type & S_IFMT, S_IFLNK);
      assert.equal(l.dentry.inode.readlink?.(), '/etc/passwd');
    });

    it('reports statfs', () => {
      const s = task.fs.root.mount.fs.statfs();
      assert.ok(typeof s !== 'number');
      assert.ok(s.bsize > 0);
    });

    it('makes, renames and removes names', () => {
      assert.equal(mkdirAt(task, AT_FDCWD, '/made', 0o755), 0);
      assert.ok(fs.statSync(`${tree.root}/made`).isDirectory());
      assert.equal(mkdirAt(task, AT_FDCWD, '/made', 0o755), -Errno.EEXIST);
      assert.equal(symlinkAt(task, 'hello.txt', AT_FDCWD, '/made/l'), 0);
      assert.equal(fs.readlinkSync(`${tree.root}/made/l`), 'hello.txt');
      const f = openAt(task, AT_FDCWD, '/made/f', O_WRONLY | O_CREAT, 0o644);
      assert.ok(f instanceof FileDescription);
      f.decRef();
      const r = renameAt(task, AT_FDCWD, '/made/f', AT_FDCWD, '/made/g', 0);
      if (!donates) {
        // diod answers Trenameat and Tunlinkat with EOPNOTSUPP (Linux's v9fs falls back to
        // Trename and Tremove, which GoferClient does not offer).
        assert.equal(r, -Errno.EOPNOTSUPP);
        assert.equal(unlinkAt(task, AT_FDCWD, '/made/f', false), -Errno.EOPNOTSUPP);
        return;
      }
      assert.equal(r, 0);
      assert.ok(fs.existsSync(`${tree.root}/made/g`));
      assert.equal(resolveAt(task, AT_FDCWD, '/made/f', 0), -Errno.ENOENT);
      assert.ok(typeof resolveAt(task, AT_FDCWD, '/made/g', 0) !== 'number');
      assert.equal(unlinkAt(task, AT_FDCWD, '/made', true), -Errno.ENOTEMPTY);
      assert.equal(unlinkAt(task, AT_FDCWD, '/made/g', false), 0);
      assert.equal(unlinkAt(task, AT_FDCWD, '/made/l', false), 0);
      assert.equal(unlinkAt(task, AT_FDCWD, '/made', true), 0);
      assert.equal(fs.existsSync(`${tree.root}/made`), false);
      assert.equal(resolveAt(task, AT_FDCWD, '/made', 0), -Errno.ENOENT);
    });

    it('creates and writes files', () => {
      const f = openAt(task, AT_FDCWD, '/dir/new.txt', O_RDWR | O_CREAT, 0o640);
      assert.ok(f instanceof FileDescription, `create: ${typeof f === 'number' ? f : ''}`);
      assert.equal(f.write(Buffer.from('written')), 7);
      const st = f.stat();
      assert.ok(typeof st !== 'number');
      assert.equal(st.size, 7);
      assert.equal(st.mode & S_IFMT, S_IFREG);
      f.decRef();
      assert.equal(fs.readFileSync(`${tree.root}/dir/new.txt`, 'utf8'), 'written');
      assert.equal(read(openPath(task, '/dir/new.txt', O_RDONLY)), 'written');
      if (donates) {
        const w = openPath(task, '/dir/new.txt', O_WRONLY);
        assert.ok(w instanceof FileDescription);
        assert.equal(w.pwrite(Buffer.from('W'), 0), 1);
        w.decRef();
        assert.equal(fs.readFileSync(`${tree.root}/dir/new.txt`, 'utf8'), 'Written');
      }
    });
  });
}

const noDiod = fs.existsSync(DIOD) ? false : `${DIOD} is not installed`;
suite('gofer fs over our Gofer', (root) => startGofer(root), true, false, false);
suite('gofer fs over diod', (root) => startDiod(root), false, noDiod, false);

describe('gofer fs on a read-only root', () => {
  it('answers EROFS for creation', async () => {
    const tree = makeTree();
    const peer = startGofer(tree.root, true);
    try {
      const gfs = GoferFilesystem.create(peer.client, { readOnly: true });
      assert.ok(gfs instanceof GoferFilesystem);
      const t = { fs: newRootFsContext(gfs, true), files: new FdTable(), creds: { ...ROOT } };
      assert.equal(openAt(t, AT_FDCWD, '/x', O_WRONLY | O_CREAT, 0o644), -Errno.EROFS);
      assert.equal(openPath(t, '/hello.txt', O_WRONLY), -Errno.EROFS);
      assert.equal(read(openPath(t, '/hello.txt', O_RDONLY)), 'hello, gofer\n');
    } finally {
      await peer.stop();
      tree.cleanup();
    }
  });
});

describe('gofer fs with a small fid cache', () => {
  /** The Gofer's open descriptors (unshare execs the Gofer: the child is the Gofer). */
  function goferFds(peer: Peer): number {
    return fs.readdirSync(`/proc/${String(peer.child.pid ?? 0)}/fd`).length;
  }

  it('gives fids back beyond its bound and walks again by the current name', async () => {
    const tree = makeTree();
    for (let d = 0; d < 10; d++) {
      fs.mkdirSync(`${tree.root}/many/d${d}`, { recursive: true });
      for (let f = 0; f < 20; f++) fs.writeFileSync(`${tree.root}/many/d${d}/f${f}`, `${d}.${f}\n`);
    }
    const peer = startGofer(tree.root);
    try {
      const gfs = GoferFilesystem.create(peer.client, { maxFids: 8 });
      assert.ok(gfs instanceof GoferFilesystem);
      const t = { fs: newRootFsContext(gfs), files: new FdTable(), creds: { ...ROOT } };
      const first = resolveAt(t, AT_FDCWD, '/many/d0/f0', 0);
      assert.ok(typeof first !== 'number');
      const before = goferFds(peer);
      for (let d = 0; d < 10; d++)
        for (let f = 0; f < 20; f++)
          assert.equal(read(openPath(t, `/many/d${d}/f${f}`, O_RDONLY)), `${d}.${f}\n`);
      assert.ok(gfs.cachedFids <= 8, `cached fids: ${gfs.cachedFids}`);
      // 210 files and directories walked, yet the Gofer holds about as many fds as before.
      assert.ok(goferFds(peer) <= before + 8, `gofer fds: ${before} then ${goferFds(peer)}`);
      // An evicted inode walks again, from an evicted parent too.
      const inode = first.dentry.inode;
      const f = inode.open(O_RDONLY, ROOT);
      assert.ok(typeof f !== 'number');
      f.release();
      assert.equal(read(openPath(t, '/many/d0/f1', O_RDONLY)), '0.1\n');
      // Renamed through the Sentry: the inode follows its file.
      assert.equal(renameAt(t, AT_FDCWD, '/many/d0', AT_FDCWD, '/many/moved', 0), 0);
      for (let i = 0; i < 12; i++) read(openPath(t, `/many/d1/f${i}`, O_RDONLY));
      const g = inode.open(O_RDONLY, ROOT);
      assert.ok(typeof g !== 'number', `open after rename: ${typeof g === 'number' ? g : 0}`);
      g.release();
      // Replaced behind the Sentry's back: the old inode is stale, never the other file.
      fs.renameSync(`${tree.root}/many/moved/f0`, `${tree.root}/many/moved/old`);
      fs.writeFileSync(`${tree.root}/many/moved/f0`, 'another file\n');
      for (let i = 0; i < 12; i++) read(openPath(t, `/many/d2/f${i}`, O_RDONLY));
      assert.equal(inode.open(O_RDONLY, ROOT), -Errno.ESTALE);
    } finally {
      await peer.stop();
      tree.cleanup();
    }
  });
});
