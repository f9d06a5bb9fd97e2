// Bind mounts from config.json, served by Gofers of their own: a shell script (busybox sh,
// forking an applet for most lines) and a C program create, append to, rename, link, chmod
// and delete files and directories on a writable bind mount, and are refused on a read-only
// one. Under moat and under runc each must print the same, and leave the host directories
// in exactly the same state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import { REPO_ROOT, runMoatBundle, runRuncBundle } from '../testlib/runners.js';

let dir = '';
let prog = '';

before(() => {
  dir = tempDir('bind');
  prog = path.join(dir, 'bind_ops');
  execFileSync('gcc', [
    '-O1',
    '-static',
    '-o',
    prog,
    path.join(REPO_ROOT, 'test/fixtures/bind_ops.c'),
  ]);
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every entry under `root`: path, type, mode, size, links, and content or link target. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const p = path.join(rel, name);
      const st = fs.lstatSync(path.join(root, p));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${p} link ${fs.readlinkSync(path.join(root, p))}`);
      else if (st.isDirectory()) {
        out.push(`${p} dir ${mode} uid=${st.uid}`);
        walk(p);
      } else {
        const content = fs.readFileSync(path.join(root, p), 'utf8');
        out.push(`${p} file ${mode} uid=${st.uid} nlink=${st.nlink} ${JSON.stringify(content)}`);
      }
    }
  };
  walk('');
  return out;
}

/** The shell script: every line a user would write, most of them forked applets. */
const SCRIPT = `set -e
cd /data
mkdir -p d1/d2/d3
echo one > d1/f
echo two >> d1/f
mv d1/f d1/g
ln d1/g d1/hard
ln -s g d1/soft
chmod 640 d1/g
chmod 750 d1/d2
touch d1/t
rm d1/t
mkdir gone
rmdir gone
cp d1/g d1/copy
cat d1/g
ls d1 | sort
wc -c < d1/copy
readlink d1/soft
printf '#!/bin/sh\\necho script says "$1"\\n' > run.sh
chmod 755 run.sh
./run.sh hello
rm run.sh d1/hard
rm -r d1/d2
if echo x > /ro/new 2>/dev/null; then echo ro_writable; else echo ro_refused; fi
if touch /ro/keep 2>/dev/null; then echo ro_touched; else echo ro_touch_refused; fi
echo added >> /conf/rw.txt
if echo y >> /conf/ro.txt 2>/dev/null; then echo rofile_writable; else echo rofile_refused; fi
cat /conf/rw.txt /conf/ro.txt /ro/keep
echo done
`;

function runOn(
  runner: 'moat' | 'runc',
  args: string[] = ['/bind_ops'],
): {
  out: string;
  status: number | null;
  data: string[];
  ro: string[];
  files: string[];
} {
  const base = fs.mkdtempSync(path.join(dir, `${runner}-`));
  const data = path.join(base, 'data');
  const ro = path.join(base, 'ro');
  fs.mkdirSync(data);
  fs.mkdirSync(ro);
  fs.writeFileSync(path.join(ro, 'keep'), 'kept\n');
  const rwFile = path.join(base, 'rw.txt');
  const roFile = path.join(base, 'ro.txt');
  fs.writeFileSync(rwFile, 'first\n');
  fs.writeFileSync(roFile, 'fixed\n');
  const bundle = makeBusyboxBundle(path.join(base, 'bundle'), {
    args,
    files: [[prog, 'bind_ops']],
    mounts: [
      { destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] },
      { destination: '/ro', type: 'bind', source: ro, options: ['rbind', 'ro'] },
      { destination: '/conf/rw.txt', type: 'bind', source: rwFile, options: ['bind', 'rw'] },
      { destination: '/conf/ro.txt', type: 'bind', source: roFile, options: ['bind', 'ro'] },
    ],
  });
  fs.mkdirSync(path.join(bundle, 'rootfs/data'));
  fs.mkdirSync(path.join(bundle, 'rootfs/ro'));
  // Mount points that exist in the rootfs (the last test covers missing ones).
  fs.mkdirSync(path.join(bundle, 'rootfs/conf'));
  fs.writeFileSync(path.join(bundle, 'rootfs/conf/rw.txt'), '');
  fs.writeFileSync(path.join(bundle, 'rootfs/conf/ro.txt'), '');
  const r = runner === 'moat' ? runMoatBundle(bundle) : runRuncBundle(bundle);
  return {
    out: r.stdout,
    status: r.status,
    data: snapshot(data),
    ro: snapshot(ro),
    files: [fs.readFileSync(rwFile, 'utf8'), fs.readFileSync(roFile, 'utf8')],
  };
}

test('bind mounts: moat and runc print the same and leave the host the same', () => {
  const runc = runOn('runc');
  const moat = runOn('moat');
  assert.equal(runc.status, 0, runc.out);
  assert.equal(moat.out, runc.out);
  assert.equal(moat.status, runc.status);
  assert.deepEqual(moat.data, runc.data);
  assert.deepEqual(moat.ro, runc.ro);
  assert.deepEqual(moat.files, runc.files);
  assert.deepEqual(moat.files, ['first\nadded\n', 'fixed\n']);
  assert.match(moat.out, /ro_create: -1 Read-only file system/);
  assert.match(moat.out, /xattr_value=bound/);
  assert.match(moat.out, /ro_xattr_set: -1 Read-only file system/);
});

test('bind mounts: a shell script does the same under moat as under runc', () => {
  const args = ['/bin/sh', '-c', SCRIPT];
  const runc = runOn('runc', args);
  const moat = runOn('moat', args);
  assert.equal(runc.status, 0, runc.out);
  assert.equal(moat.out, runc.out);
  assert.equal(moat.status, runc.status);
  assert.deepEqual(moat.data, runc.data);
  assert.deepEqual(moat.ro, runc.ro);
  assert.deepEqual(moat.files, runc.files);
  assert.match(moat.out, /script says hello\n/);
  assert.match(moat.out, /ro_refused\nro_touch_refused\n/);
  assert.match(moat.out, /rofile_refused\n/);
});

test('mount points missing from the rootfs are made, as runc makes them', () => {
  const outs: Record<string, { out: string; status: number | null }> = {};
  for (const runner of ['runc', 'moat'] as const) {
    const base = fs.mkdtempSync(path.join(dir, `mp-${runner}-`));
    const data = path.join(base, 'data');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'in-data'), 'data\n');
    const file = path.join(base, 'one.txt');
    fs.writeFileSync(file, 'one\n');
    const bundle = makeBusyboxBundle(path.join(base, 'bundle'), {
      args: [
        '/bin/sh',
        '-c',
        'ls / | grep -E "^(new|conf2|scratch)$"; ls /new/deep; cat /conf2/one.txt; ' +
          'echo s > /scratch/s && cat /scratch/s; ls -ld /new /new/deep /scratch | cut -c1-10',
      ],
      mounts: [
        { destination: '/new/deep', type: 'bind', source: data, options: ['rbind', 'ro'] },
        { destination: '/conf2/one.txt', type: 'bind', source: file, options: ['bind', 'ro'] },
        { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] },
      ],
    });
    const r = runner === 'moat' ? runMoatBundle(bundle) : runRuncBundle(bundle);
    outs[runner] = { out: r.stdout, status: r.status };
  }
  assert.equal(outs['runc']?.status, 0, outs['runc']?.out);
  assert.equal(outs['moat']?.out, outs['runc']?.out);
  assert.equal(outs['moat']?.status, 0);
  assert.match(outs['moat']?.out ?? '', /in-data\none\ns\n/);
});

test('files a non-root container user creates on a bind mount are its own, as under runc', () => {
  const results: Record<string, { out: string; data: string[] }> = {};
  for (const runner of ['runc', 'moat'] as const) {
    const base = fs.mkdtempSync(path.join(dir, `user-${runner}-`));
    const data = path.join(base, 'data');
    fs.mkdirSync(data);
    fs.chmodSync(data, 0o777);
    const bundle = makeBusyboxBundle(path.join(base, 'bundle'), {
      user: { uid: 1000, gid: 1000 },
      args: [
        '/bin/sh',
        '-c',
        'id -u; id -g; cd /data && echo x > f && mkdir d && ln -s f l && touch d/g && ' +
          'chmod 600 f && ls -ln . | cut -c1-10,16-26; if echo y > /data/../etc/x 2>/dev/null; then echo rootfs_writable; else echo rootfs_refused; fi',
      ],
      mounts: [{ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] }],
    });
    fs.mkdirSync(path.join(bundle, 'rootfs/data'));
    const r = runner === 'moat' ? runMoatBundle(bundle) : runRuncBundle(bundle);
    assert.equal(r.status, 0, `${runner}: ${r.stdout}`);
    results[runner] = { out: r.stdout, data: snapshot(data) };
  }
  assert.equal(results['moat']?.out, results['runc']?.out);
  assert.deepEqual(results['moat']?.data, results['runc']?.data);
  assert.match(results['moat']?.data.join('\n') ?? '', /f file 600 uid=1000/);
});
