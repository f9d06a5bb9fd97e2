// Unit tests of the flag parser against runc's (Go flag / urfave) forms.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FlagSpec, boolFlag, exactlyOne, parseArgs, stringFlag } from './args.js';
import { CliError } from './errors.js';
import { GLOBAL_FLAGS } from './main.js';

const SPECS: FlagSpec[] = [
  { name: 'bundle', short: 'b', kind: 'string' },
  { name: 'pid-file', kind: 'string' },
  { name: 'detach', short: 'd', kind: 'bool' },
];

describe('parseArgs', () => {
  it('accepts every runc form of a string flag', () => {
    for (const argv of [
      ['--bundle', '/b', 'id'],
      ['--bundle=/b', 'id'],
      ['-bundle', '/b', 'id'],
      ['-bundle=/b', 'id'],
      ['-b', '/b', 'id'],
      ['-b=/b', 'id'],
      ['id', '--bundle', '/b'],
    ]) {
      const p = parseArgs(argv, SPECS);
      assert.equal(stringFlag(p, 'bundle'), '/b', argv.join(' '));
      assert.deepEqual(p.positionals, ['id'], argv.join(' '));
    }
  });

  it('parses booleans with and without values', () => {
    assert.equal(boolFlag(parseArgs(['-d'], SPECS), 'detach'), true);
    assert.equal(boolFlag(parseArgs(['--detach=true'], SPECS), 'detach'), true);
    assert.equal(boolFlag(parseArgs(['--detach=false'], SPECS), 'detach'), false);
    assert.equal(boolFlag(parseArgs([], SPECS), 'detach'), false);
    assert.throws(() => parseArgs(['--detach=maybe'], SPECS), /not a boolean/);
  });

  it('keeps values that look like flags after a string flag and after --', () => {
    assert.equal(stringFlag(parseArgs(['--pid-file', '-x'], SPECS), 'pid-file'), '-x');
    assert.deepEqual(parseArgs(['--', '-d', '--bundle'], SPECS).positionals, ['-d', '--bundle']);
  });

  it('stops at the first positional argument when asked', () => {
    const p = parseArgs(['--root', '/r', 'create', '--bundle', 'x'], GLOBAL_FLAGS, {
      stopAtPositional: true,
    });
    assert.equal(stringFlag(p, 'root'), '/r');
    assert.deepEqual(p.positionals, ['create', '--bundle', 'x']);
  });

  it('reports unknown flags and missing values as usage errors', () => {
    const usage = (e: unknown) => e instanceof CliError && e.code === 'CLI_USAGE';
    assert.throws(() => parseArgs(['--nope'], SPECS), usage);
    assert.throws(() => parseArgs(['--bundle'], SPECS), usage);
    assert.throws(
      () => parseArgs(['--'], SPECS).positionals[0] ?? exactlyOne(parseArgs([], SPECS), 'x'),
      usage,
    );
    assert.throws(() => exactlyOne(parseArgs(['a', 'b'], SPECS), 'state'), /exactly 1 argument/);
  });
});
