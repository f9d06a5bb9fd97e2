// Unit tests of the JSON error locator: it agrees with JSON.parse on validity and points at
// the first bad character.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonErrorOffset } from './json_error_offset.js';

describe('jsonErrorOffset', () => {
  it('points at the first bad character', () => {
    assert.equal(jsonErrorOffset('{"a": [,]}'), 7);
    assert.equal(jsonErrorOffset('{"a" 1}'), 5);
    assert.equal(jsonErrorOffset('{"a": 1,}'), 8);
    assert.equal(jsonErrorOffset('[1 2]'), 3);
    assert.equal(jsonErrorOffset('{} x'), 3);
    assert.equal(jsonErrorOffset('"\\q"'), 2);
    assert.equal(jsonErrorOffset('tru'), 0);
  });

  it('reports the end for truncated input', () => {
    for (const t of ['', '{', '{"a": ', '[1, 2', '"abc', '{"a": {"b": [']) {
      assert.equal(jsonErrorOffset(t), t.length, JSON.stringify(t));
    }
  });

  it('accepts what JSON.parse accepts', () => {
    for (const t of [
      '{}',
      '[]',
      '0',
      '-1.5e3',
      '"\\u00e9"',
      '{"a": [1, {"b": null}], "c": true}',
    ]) {
      JSON.parse(t);
      assert.equal(jsonErrorOffset(t), t.length, t);
    }
  });
});
