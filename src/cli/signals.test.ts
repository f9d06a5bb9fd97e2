// Unit tests of signal parsing for `moat kill`.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSignal, signalName } from './signals.js';

describe('parseSignal', () => {
  it('accepts names with and without SIG, any case, and numbers', () => {
    for (const s of ['KILL', 'SIGKILL', 'kill', 'sigkill', '9']) assert.equal(parseSignal(s), 9);
    assert.equal(parseSignal('TERM'), 15);
    assert.equal(parseSignal('SIGUSR1'), 10);
    assert.equal(parseSignal('HUP'), 1);
    assert.equal(parseSignal('64'), 64);
    assert.equal(parseSignal('RTMIN'), 34);
    assert.equal(parseSignal('SIGRTMIN+2'), 36);
    assert.equal(parseSignal('RTMAX-1'), 63);
  });

  it('rejects unknown names and numbers out of range', () => {
    for (const s of ['', 'FOO', 'SIG', '0', '65', '-9', '9x', 'RTMAX+1']) {
      assert.throws(() => parseSignal(s), /invalid signal/, s);
    }
  });

  it('names numbers', () => {
    assert.equal(signalName(9), 'SIGKILL');
    assert.equal(signalName(6), 'SIGABRT');
    assert.equal(signalName(40), 'signal 40');
  });
});
