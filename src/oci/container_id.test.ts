// Unit tests of container id validation: ids can never name a path outside the state root.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ID_LENGTH, checkId, isValidId } from './container_id.js';
import { OciError } from './errors.js';

describe('container ids', () => {
  it('accepts runc-style ids', () => {
    for (const id of ['a', 'web-1', 'A_b.c-d', '0123', 'x'.repeat(MAX_ID_LENGTH)]) {
      assert.equal(checkId(id), id);
    }
  });

  it('rejects path-like and empty ids with OCI_INVALID_ID', () => {
    for (const id of ['', '.', '..', '../x', 'a/b', '/abs', '.hidden', '-x', 'a b', 'a\0b', 'é']) {
      assert.equal(isValidId(id), false, id);
      assert.throws(
        () => checkId(id),
        (e: unknown) => e instanceof OciError && e.code === 'OCI_INVALID_ID',
      );
    }
  });

  it('rejects ids longer than the limit', () => {
    assert.throws(() => checkId('x'.repeat(MAX_ID_LENGTH + 1)), /longer than 1024/);
  });
});
