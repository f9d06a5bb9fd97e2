// Unit tests of the cgroup placement rules and of mountinfo parsing (hybrid, v1, v2 hosts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Hierarchy, hostMemoryLimit, parseHierarchies, placement } from './cgroups.js';

const HYBRID = [
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

const PROC_CGROUP = '9:name=systemd:/\n4:memory:/session/a\n8:pids:/\n1:cpu,cpuacct:/\n0::/u\n';

describe('cgroup hierarchies', () => {
  it('takes controllers from v1 first on a hybrid host', () => {
    const hs = parseHierarchies(HYBRID, () => ['memory', 'pids', 'io']);
    const byMount = new Map(hs.map((h) => [h.mount, h]));
    assert.deepEqual(byMount.get('/sys/fs/cgroup/memory')?.controllers, ['memory']);
    assert.deepEqual(byMount.get('/sys/fs/cgroup/cpu,cpuacct')?.controllers, ['cpu']);
    assert.deepEqual(byMount.get('/sys/fs/cgroup/unified')?.controllers, ['io']);
    assert.equal(byMount.has('/sys/fs/cgroup/systemd'), false, 'no controller of ours there');
  });

  it('uses v2 alone on a unified host', () => {
    const hs = parseHierarchies('25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', () => [
      'cpuset',
      'cpu',
      'memory',
      'pids',
    ]);
    assert.equal(hs.length, 1);
    assert.deepEqual(hs[0]?.controllers, ['memory', 'pids', 'cpu', 'cpuset']);
  });
});

describe('cgroup placement', () => {
  const mem: Hierarchy = { version: 1, mount: '/m', root: '/', controllers: ['memory'] };
  const v2: Hierarchy = { version: 2, mount: '/u', root: '/', controllers: ['io'] };
  it('defaults to moat-<id> under the caller’s own cgroup', () => {
    assert.equal(placement(mem, 'c1', undefined, PROC_CGROUP), '/session/a/moat-c1');
    assert.equal(placement(v2, 'c1', undefined, PROC_CGROUP), '/u/moat-c1');
  });
  it('takes an absolute cgroupsPath from the mount, a relative one from the caller', () => {
    assert.equal(
      placement(mem, 'c', '/libpod_parent/libpod-x', PROC_CGROUP),
      '/libpod_parent/libpod-x',
    );
    assert.equal(placement(mem, 'c', 'sub/x', PROC_CGROUP), '/session/a/sub/x');
  });
  it('maps systemd’s slice:prefix:name', () => {
    assert.equal(
      placement(mem, 'c', 'machine.slice:libpod:abc', PROC_CGROUP),
      '/machine.slice/libpod-abc.scope',
    );
  });
  it('strips a mount root that is the caller’s own cgroup', () => {
    const inner: Hierarchy = {
      version: 1,
      mount: '/m',
      root: '/session/a',
      controllers: ['memory'],
    };
    assert.equal(placement(inner, 'c', undefined, PROC_CGROUP), '/moat-c');
  });
  it('refuses ..', () => {
    assert.throws(() => placement(mem, 'c', '/a/../../etc', PROC_CGROUP), /"\.\." is not allowed/);
  });
  it('adds moat’s own overhead to the host memory limit', () => {
    assert.ok(hostMemoryLimit(64 << 20, 2) > 64 << 20);
  });
});
