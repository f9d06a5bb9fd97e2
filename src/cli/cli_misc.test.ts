// Unit tests of the CLI's small pieces: the exit-status table, log line formats, runc's
// list table layout, and main()'s handling of usage errors (which touch no state).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { OciError } from '../oci/errors.js';
import { SandboxError } from '../sandbox/errors.js';
import { formatTable } from './cmd_list.js';
import { CliError } from './errors.js';
import { EXIT_STATUS, exitStatusFor } from './exit_codes.js';
import { Logger, formatLine } from './log.js';
import { main } from './main.js';

describe('exit statuses', () => {
  it('maps every typed error through the one table, runc-style', () => {
    assert.equal(exitStatusFor(new OciError('CONTAINER_NOT_FOUND', 'x')), 1);
    assert.equal(exitStatusFor(new SandboxError('SANDBOX_START_FAILED', 'x')), 1);
    assert.equal(exitStatusFor(new CliError('CLI_USAGE', 'x')), 1);
    assert.equal(exitStatusFor(new Error('bug')), 1);
    assert.ok(Object.values(EXIT_STATUS).every((s) => s !== 0));
  });
});

describe('log lines', () => {
  it('formats text like logrus and json one object a line', () => {
    const t = new Date('2026-01-02T03:04:05.000Z');
    assert.equal(
      formatLine('text', 'error', 'a "b"', t),
      'time="2026-01-02T03:04:05.000Z" level=error msg="a \\"b\\""',
    );
    assert.deepEqual(JSON.parse(formatLine('json', 'debug', 'm', t)), {
      level: 'debug',
      msg: 'm',
      time: '2026-01-02T03:04:05.000Z',
    });
  });

  it('writes errors to stderr and to the log file, debug only when enabled', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-log-test-'));
    try {
      const file = path.join(dir, 'log');
      const lines: string[] = [];
      const log = new Logger({ file, format: 'json', debug: false, stderr: (l) => lines.push(l) });
      log.error('create container "x": boom');
      log.debug('hidden');
      assert.deepEqual(lines, ['moat: create container "x": boom']);
      const logged = fs.readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(logged.length, 1);
      assert.equal(
        (JSON.parse(logged[0] ?? '') as { msg: string }).msg,
        'create container "x": boom',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('list table', () => {
  it('pads columns like runc (min width 12, padding 3)', () => {
    const out = formatTable([
      ['ID', 'PID', 'STATUS'],
      ['a-long-container-id', '1', 'running'],
    ]);
    const id = 'a-long-container-id';
    const expected =
      `${'ID'.padEnd(id.length + 3)}${'PID'.padEnd(12)}STATUS\n` +
      `${id}   ${'1'.padEnd(12)}running\n`;
    assert.equal(out, expected);
  });
});

describe('main', () => {
  it('returns 1 for usage errors and unknown commands without creating the root', async () => {
    const root = path.join(os.tmpdir(), `moat-main-test-${process.pid}`);
    const saved = process.stderr.write.bind(process.stderr);
    const err: string[] = [];
    process.stderr.write = (chunk: string) => {
      err.push(String(chunk));
      return true;
    };
    try {
      assert.equal(await main(['--root', root, 'frobnicate']), 1);
      assert.equal(await main(['--root', root, '--log-format', 'xml', 'list']), 1);
      assert.equal(await main(['--root', root, 'state']), 1);
      assert.equal(await main(['--root', root, 'state', '../etc']), 1);
      assert.equal(await main(['--root', root, 'kill', 'x', 'NOPE']), 1);
      assert.equal(await main(['--root', root, 'create', '--console-socket', '/s', 'x']), 1);
    } finally {
      process.stderr.write = saved;
    }
    assert.equal(fs.existsSync(root), false);
    assert.match(err.join(''), /moat: unknown command "frobnicate"/);
    assert.match(err.join(''), /moat: invalid container id "\.\.\/etc"/);
    assert.match(err.join(''), /moat: --console-socket: terminals are not supported yet/);
  });
});
