// Unit tests of linux.resources parsing: typed limits, and clear errors for hostile values.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLimitOf, parseResources } from './spec_resources.js';

describe('linux.resources', () => {
  it('parses memory, pids, cpu and blockIO', () => {
    const r = parseResources({
      memory: { limit: 536870912, reservation: 1 << 20, swap: 1073741824 },
      pids: { limit: 100 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
      blockIO: { weight: 500 },
      devices: [{ allow: false, access: 'rwm' }],
      hugepageLimits: [],
    });
    assert.equal(r.memory?.limit, 536870912);
    assert.equal(r.pids?.limit, 100);
    assert.equal(r.cpu?.cpus, '0-1');
    assert.equal(r.blockIO?.weight, 500);
    assert.equal(memoryLimitOf(r), 536870912);
  });
  it('treats -1 and 0 as no limit where runc does', () => {
    assert.equal(memoryLimitOf(parseResources({ memory: { limit: -1 } })), undefined);
    assert.equal(parseResources({ pids: { limit: 0 } }).pids, undefined);
    assert.equal(parseResources({ pids: { limit: -1 } }).pids, undefined);
  });
  it('names the field of a bad value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ memory: { limit: 'lots' } }, /linux\.resources\.memory\.limit: must be an integer/],
      [{ memory: { limit: 100 } }, /memory\.limit: must be -1 \(no limit\) or at least 4096/],
      [
        { memory: { limit: 1 << 30, swap: 1 << 20 } },
        /memory\.swap: must be at least memory\.limit/,
      ],
      [{ pids: { limit: 1.5 } }, /pids\.limit: must be an integer/],
      [{ cpu: { cpus: '0;rm -rf /' } }, /cpu\.cpus: must be a list/],
      [{ cpu: { quota: 10 } }, /cpu\.quota: must be -1/],
      [{ blockIO: { weight: 5 } }, /blockIO\.weight: must be 10 to 1000/],
      [[], /linux\.resources: must be an object/],
    ];
    for (const [v, re] of bad) assert.throws(() => parseResources(v), re);
  });
});
