// Unit tests of the state store: atomic writes, reads, listing, removal, the per-container
// lock (flock: two holders in one process conflict, as two processes would), and damaged
// state files reported as STATE_CORRUPT.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OciError } from './errors.js';
import { StateStore } from './state_store.js';
import type { ContainerRecord } from './state_types.js';
import { toOciState } from './state_types.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-state-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function record(id: string): ContainerRecord {
  return {
    ociVersion: '1.0.2',
    id,
    status: 'created',
    pid: 1234,
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: '2026-01-01T00:00:00.000Z',
    owner: 'root',
    annotations: { a: 'b' },
    sandbox: {
      sandbox: { pid: 1233, startTime: '10' },
      gofer: { pid: 1232, startTime: '9' },
      controlSocket: '/b/control.sock',
    },
  };
}

function code(c: string) {
  return (e: unknown) => e instanceof OciError && e.code === c;
}

describe('StateStore', () => {
  it('reserves, writes, reads, lists and removes', () => {
    const store = new StateStore(path.join(tmp, 'r1'));
    store.reserve('c1');
    assert.deepEqual(store.list(), [], 'no state.json yet: not listed');
    store.write(record('c1'));
    assert.deepEqual(store.read('c1'), record('c1'));
    store.reserve('c0');
    store.write(record('c0'));
    assert.deepEqual(store.list(), ['c0', 'c1']);
    const files = fs.readdirSync(store.dir('c1'));
    assert.deepEqual(files, ['state.json'], 'no temp file left behind');
    store.remove('c1');
    assert.deepEqual(store.list(), ['c0']);
    assert.throws(() => store.read('c1'), code('CONTAINER_NOT_FOUND'));
  });

  it('reports a state root that is not a directory as an I/O error', () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, '');
    assert.throws(() => new StateStore(file).reserve('x'), code('STATE_IO'));
  });

  it('refuses a second container with the same id', () => {
    const store = new StateStore(path.join(tmp, 'r2'));
    store.reserve('dup');
    assert.throws(() => store.reserve('dup'), code('CONTAINER_EXISTS'));
  });

  it('checks ids before they become paths', () => {
    const store = new StateStore(path.join(tmp, 'r3'));
    assert.throws(() => store.reserve('../escape'), code('OCI_INVALID_ID'));
    assert.throws(() => store.read('..'), code('OCI_INVALID_ID'));
    assert.equal(fs.existsSync(path.join(tmp, 'escape')), false);
  });

  it('turns ids too long for a directory name into clear errors', async () => {
    const store = new StateStore(path.join(tmp, 'r3b'));
    const long = 'x'.repeat(300);
    assert.throws(() => store.reserve(long), code('OCI_INVALID_ID'));
    assert.throws(() => store.read(long), code('CONTAINER_NOT_FOUND'));
    await assert.rejects(store.lock(long), code('CONTAINER_NOT_FOUND'));
  });

  it('reports damaged state files as STATE_CORRUPT', () => {
    const store = new StateStore(path.join(tmp, 'r4'));
    store.reserve('bad');
    const file = path.join(store.dir('bad'), 'state.json');
    for (const text of ['{', '[]', '{"id":"bad"}', JSON.stringify({ ...record('other') })]) {
      fs.writeFileSync(file, text);
      assert.throws(() => store.read('bad'), code('STATE_CORRUPT'), text);
    }
  });

  it('serializes lock holders and fails for missing containers', async () => {
    const store = new StateStore(path.join(tmp, 'r5'));
    await assert.rejects(store.lock('nope'), code('CONTAINER_NOT_FOUND'));
    store.reserve('c');
    const first = await store.lock('c');
    let second = false;
    const waiting = store.lock('c').then((l) => {
      second = true;
      return l;
    });
    await sleep(100);
    assert.equal(second, false, 'second holder waits');
    first.release();
    (await waiting).release();
    assert.equal(second, true);
    await assert.rejects(
      store.lock('c', 0).then(async (l) => {
        const again = store.lock('c', 50);
        try {
          return await again;
        } finally {
          l.release();
        }
      }),
      code('STATE_LOCK_FAILED'),
    );
  });

  it('makes a waiter fail when the holder deletes the container', async () => {
    const store = new StateStore(path.join(tmp, 'r6'));
    store.reserve('d');
    const first = await store.lock('d');
    const waiting = store.lock('d');
    await sleep(30);
    store.remove('d');
    first.release();
    await assert.rejects(waiting, code('CONTAINER_NOT_FOUND'));
  });
});

describe('toOciState', () => {
  it('reports pid 0 once stopped and omits empty annotations', () => {
    const rec = record('s');
    assert.equal(toOciState(rec, 'running').pid, 1234);
    assert.equal(toOciState(rec, 'stopped').pid, 0);
    assert.deepEqual(toOciState(rec, 'created').annotations, { a: 'b' });
    rec.annotations = {};
    assert.equal('annotations' in toOciState(rec, 'created'), false);
  });
});
