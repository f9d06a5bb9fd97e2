// Integration suite: real programs of a Debian 12 root file system (testlib/debian_rootfs.ts)
// that lean on memory — Python's mmap module, POSIX shared memory between forked processes,
// a fork-based multiprocessing pool, SQLite in WAL mode (whose -shm index is a shared file
// mapping), and Python's use of Unix socket pairs (asyncio, multiprocessing.Pipe) — run
// under `runc run` and under `moat run`; each must print the same stdout, end with the same
// exit status, and leave the same files in its writable /work. runc is the
// reference: each program also checks itself (assert, and a last line `done`), so runc must
// pass it; where runc cannot run, moat is held to the programs' own checks alone.
//
// It must never compare anything looser than byte for byte, and the programs print only what
// is the same on every run (no pids, addresses or times). It never writes into the cached
// rootfs: the bundles use it read-only, in place, with tmpfs /tmp and /dev/shm and a fresh
// host directory at /work for each run. The whole file is skipped, with the reason, when the
// rootfs cannot be had (no root, no debootstrap, the Debian archive unreachable); building it
// is a one-time cost of the first run on a machine, not of this suite.

import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../testlib/bundle.js';
import { bundleFromRootfs, debianRootfs } from '../testlib/debian_rootfs.js';
import {
  describeResult,
  moatUnavailable,
  runBundleWith,
  runtimeUnavailable,
  type RunResult,
} from '../testlib/runners.js';

/** A safety net against a hung run, not a measure: natively each program takes < 1 s. */
const TIMEOUT_MS = { runc: 30_000, moat: 20_000 } as const;

interface MemoryCase {
  name: string;
  args: string[];
  /** Files put in the host directory mounted at /work before the run: name → content. */
  files?: Record<string, string>;
}

/**
 * mmap: anonymous private (copy-on-write across fork, zero after MADV_DONTNEED) and shared
 * (written by a forked child, kept after MADV_DONTNEED), a /tmp file mapped shared and private,
 * flush, and resize (mremap). Python's mmap is MAP_SHARED unless told otherwise.
 */
const MMAP = `
import mmap, os
PAGE = mmap.PAGESIZE

a = mmap.mmap(-1, 2 * PAGE, flags=mmap.MAP_PRIVATE)
a[0:5] = b'hello'
a[PAGE:PAGE + 5] = b'world'
print('private anon', a[0:5], a[PAGE:PAGE + 5], len(a) == 2 * PAGE, a[10])
pid = os.fork()
if pid == 0:
    a[0:5] = b'child'
    os._exit(3 if a[0:5] == b'child' else 1)
_, st = os.waitpid(pid, 0)
print('private anon across fork: child exit', os.waitstatus_to_exitcode(st), 'parent keeps', a[0:5])
a.madvise(mmap.MADV_DONTNEED)
print('private anon after MADV_DONTNEED', a[0:5], a[PAGE:PAGE + 5])
a.close()

s = mmap.mmap(-1, PAGE, flags=mmap.MAP_SHARED)
s[0:6] = b'parent'
pid = os.fork()
if pid == 0:
    ok = s[0:6] == b'parent'
    s[0:10] = b'from child'
    os._exit(7 if ok else 1)
_, st = os.waitpid(pid, 0)
print('shared anon: child exit', os.waitstatus_to_exitcode(st), 'parent reads', s[0:10])
s.madvise(mmap.MADV_DONTNEED)
print('shared anon after MADV_DONTNEED', s[0:10])
s.close()

path = '/tmp/mapped.bin'
with open(path, 'wb') as f:
    f.write(b'.' * PAGE)
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, PAGE)
m[0:9] = b'via mmap\\n'
m.flush()
with open(path, 'rb') as f:
    print('file reads', f.read(9))
os.pwrite(fd, b'via pwrite', 100)
print('map reads', m[100:110])
m.seek(0)
print('readline', m.readline(), 'find', m.find(b'pwrite'))

p = mmap.mmap(fd, PAGE, flags=mmap.MAP_PRIVATE)
p[0:7] = b'private'
print('private map', p[0:7], 'file keeps', os.pread(fd, 7, 0), 'shared map keeps', m[0:7])
p.close()

try:
    m.resize(3 * PAGE)
    m[2 * PAGE:2 * PAGE + 4] = b'tail'
    m.flush()
    print('resized', len(m) // PAGE, os.fstat(fd).st_size // PAGE, os.pread(fd, 4, 2 * PAGE))
    print('old bytes kept', m[0:8], m[100:110])
except SystemError as e:
    # CPython built without mremap(2): resize is not offered at all.
    print('resize not available')
m.close()
os.close(fd)
os.unlink(path)
print('done')
`;

/** multiprocessing.shared_memory: the parent creates, a forked child writes, the parent reads. */
const SHARED_MEMORY = `
import os, multiprocessing as mp
from multiprocessing import shared_memory

def child(name):
    shm = shared_memory.SharedMemory(name=name)
    assert shm.buf[0] == 1
    shm.buf[0:12] = b'from child!!'
    shm.buf[4095] = 42
    shm.close()

if __name__ == '__main__':
    mp.set_start_method('fork')
    shm = shared_memory.SharedMemory(name='moat_shm_test', create=True, size=4096)
    shm.buf[0] = 1
    print('created', shm.name, shm.size, os.path.exists('/dev/shm/moat_shm_test'))
    p = mp.Process(target=child, args=(shm.name,))
    p.start()
    p.join()
    print('child exit', p.exitcode)
    print('parent reads', bytes(shm.buf[0:12]), shm.buf[4095])
    shm.close()
    shm.unlink()
    print('unlinked', not os.path.exists('/dev/shm/moat_shm_test'))
    print('done')
`;

/** multiprocessing.Pool(2).map over range(20): fork, pipes, semaphores in /dev/shm. */
const POOL = `
import multiprocessing as mp

def square(x):
    return x * x

if __name__ == '__main__':
    ctx = mp.get_context('fork')
    with ctx.Pool(2) as pool:
        r = pool.map(square, range(20))
    assert r == [x * x for x in range(20)]
    print(r)
    print('sum', sum(r))
    print('done')
`;

/**
 * Connected Unix sockets as Python uses them: socket.socketpair (asyncio's self-pipe is one),
 * an asyncio stream over a socket, and multiprocessing's duplex Pipe to a forked child.
 */
const SOCKETS = `
import asyncio, multiprocessing as mp, socket

a, b = socket.socketpair()
a.sendall(b'hello')
print('socketpair', b.recv(16))

async def main():
    reader, writer = await asyncio.open_connection(sock=a)
    b.sendall(b'line one\\n')
    print('asyncio', await reader.readline())
    writer.write(b'back\\n')
    await writer.drain()
    writer.close()

asyncio.run(main())
print('peer got', b.recv(16))

def child(conn):
    conn.send({'square': [x * x for x in conn.recv()]})

if __name__ == '__main__':
    parent, other = mp.get_context('fork').Pipe()
    p = mp.get_context('fork').Process(target=child, args=(other,))
    p.start()
    parent.send([1, 2, 3])
    print('pipe', parent.recv())
    p.join()
    print('exit', p.exitcode)
    print('done')
`;

/** sqlite3's shell, WAL mode on /work: 1000 inserts in one transaction, then a second process. */
const SQLITE_CLI_SCRIPT = [
  'PRAGMA journal_mode=WAL;',
  'CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER NOT NULL);',
  'BEGIN;',
  ...Array.from({ length: 1000 }, (_, i) => `INSERT INTO t(v) VALUES(${i + 1});`),
  'COMMIT;',
  'SELECT count(*), sum(v) FROM t;',
  'PRAGMA integrity_check;',
  '',
].join('\n');

const SQLITE_CLI = [
  'set -e',
  'sqlite3 /work/cli.db ".read /work/wal.sql"',
  'sqlite3 /work/cli.db "PRAGMA journal_mode; SELECT count(*), sum(v) FROM t WHERE v % 2 = 0;"',
  'echo done',
].join('\n');

/** Python's sqlite3, WAL mode on /work: a reader's snapshot while a writer's transaction is open. */
const SQLITE_PY = `
import os, sqlite3
db = '/work/py.db'
w = sqlite3.connect(db, isolation_level=None)
print('journal_mode', w.execute('PRAGMA journal_mode=WAL').fetchone()[0])
w.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER NOT NULL, s TEXT)')
r = sqlite3.connect(db, isolation_level=None)
w.execute('BEGIN')
w.executemany('INSERT INTO t(v, s) VALUES (?, ?)', ((i, 'row %d' % i) for i in range(1000)))
print('reader before commit', r.execute('SELECT count(*) FROM t').fetchone())
w.execute('COMMIT')
print('reader after commit', r.execute('SELECT count(*), sum(v), max(s) FROM t').fetchone())
print('wal files', os.path.exists(db + '-wal'), os.path.exists(db + '-shm'))
print('checkpoint', w.execute('PRAGMA wal_checkpoint(TRUNCATE)').fetchone())
print('integrity', w.execute('PRAGMA integrity_check').fetchone()[0])
r.close()
w.close()
print('wal files after close', os.path.exists(db + '-wal'), os.path.exists(db + '-shm'))
print('done')
`;

const CASES: MemoryCase[] = [
  {
    name: 'python3 mmap: anonymous, shared across fork, /tmp file, resize',
    args: ['python3', '-c', MMAP],
  },
  {
    name: 'python3 multiprocessing.shared_memory across a forked child',
    args: ['python3', '-c', SHARED_MEMORY],
  },
  {
    name: 'python3 multiprocessing.Pool(2).map (fork)',
    args: ['python3', '-c', POOL],
  },
  {
    name: 'python3 socketpair, asyncio over a socket, multiprocessing.Pipe to a forked child',
    args: ['python3', '-c', SOCKETS],
  },
  {
    name: 'sqlite3 shell in WAL mode on a bind mount: 1000 rows in a transaction',
    args: ['sh', '-c', SQLITE_CLI],
    files: { 'wal.sql': SQLITE_CLI_SCRIPT },
  },
  {
    name: "python3 sqlite3 in WAL mode on a bind mount: a reader's snapshot",
    args: ['python3', '-c', SQLITE_PY],
  },
];

interface Outcome {
  run: RunResult;
  /** What the program left in /work, names sorted. */
  files: string[];
}

const rootfs = debianRootfs();
const work = tempDir('debian-memory');

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function runIn(rt: 'runc' | 'moat', c: MemoryCase, root: string): Outcome {
  const base = fs.mkdtempSync(path.join(work, `${rt}-`));
  const workDir = path.join(base, 'work');
  fs.mkdirSync(workDir);
  for (const [name, content] of Object.entries(c.files ?? {})) {
    fs.writeFileSync(path.join(workDir, name), content);
  }
  const bundle = bundleFromRootfs(root, c.args, { bundleDir: path.join(base, 'bundle'), workDir });
  const run = runBundleWith(rt, bundle, { timeoutMs: TIMEOUT_MS[rt] });
  return { run, files: fs.readdirSync(workDir).sort() };
}

/** What a run printed and how it ended, for messages that show both sides. */
function show(o: Outcome): string {
  return `${describeResult(o.run)}\n--- stdout ---\n${o.run.stdout}--- /work: ${o.files.join(' ')}`;
}

describe(
  'Debian 12 programs on memory: moat run vs runc run',
  typeof rootfs === 'string' ? {} : { skip: rootfs.skip },
  () => {
    const root = typeof rootfs === 'string' ? rootfs : '';
    for (const c of CASES) {
      test(c.name, (t) => {
        const runcWhy = runtimeUnavailable('runc');
        let ref: Outcome | null = null;
        if (runcWhy === null) {
          ref = runIn('runc', c, root);
          assert.equal(ref.run.status, 0, `runc itself: ${show(ref)}`);
          assert.match(ref.run.stdout, /\ndone\n$/, `runc itself: ${show(ref)}`);
        }
        const moatWhy = moatUnavailable();
        if (moatWhy !== null) return t.skip(`moat cannot run: ${moatWhy}`);
        const moat = runIn('moat', c, root);
        t.diagnostic(`moat: ${describeResult(moat.run)}`);
        if (ref === null) {
          t.diagnostic(`runc unavailable (${runcWhy ?? ''}): checking moat on its own checks`);
          assert.equal(moat.run.status, 0, show(moat));
          assert.match(moat.run.stdout, /\ndone\n$/, show(moat));
          return;
        }
        assert.equal(moat.run.error, null, show(moat));
        assert.equal(moat.run.stdout, ref.run.stdout, `stdout differs: ${show(moat)}`);
        assert.equal(moat.run.signal, ref.run.signal, show(moat));
        assert.equal(moat.run.status, ref.run.status, `exit status differs: ${show(moat)}`);
        assert.deepEqual(moat.files, ref.files, `files left in /work differ: ${show(moat)}`);
      });
    }
  },
);
