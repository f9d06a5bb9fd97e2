// The command line's own behaviour, through bin/moat.js as a separate process, without a
// sandbox: `spec`, `list` output, global flags (--log with both formats, --debug,
// --systemd-cgroup, --version, --help), usage errors and their exit statuses.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../testlib/bundle.js';
import { moat } from '../testlib/cli_moat.js';

const base = tempDir('cli-flags');
after(() => fs.rmSync(base, { recursive: true, force: true }));
const root = path.join(base, 'state');

describe('moat spec', () => {
  it('writes a valid default config.json once, like runc spec', () => {
    const bundle = path.join(base, 'spec-bundle');
    fs.mkdirSync(bundle);
    const r = moat(root, ['spec', '--bundle', bundle]);
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as {
      ociVersion: string;
      process: { args: string[]; terminal: boolean };
      root: { path: string };
    };
    assert.match(cfg.ociVersion, /^1\./);
    assert.deepEqual(cfg.process.args, ['sh']);
    assert.equal(cfg.process.terminal, false);
    assert.equal(cfg.root.path, 'rootfs');
    const again = moat(root, ['spec', '-b', bundle]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^moat: write ".*config\.json": already exists/m);
  });
});

describe('moat list', () => {
  it('prints runc’s header on an empty root, [] as json, nothing when quiet', () => {
    const t = moat(root, ['list']);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\n$/);
    const j = moat(root, ['list', '--format=json']);
    assert.deepEqual(JSON.parse(j.stdout), []);
    assert.equal(moat(root, ['list', '-q']).stdout, '');
    assert.equal(moat(root, ['list', '--format', 'xml']).status, 1);
  });
});

describe('damaged state', () => {
  it('list skips a damaged state file with a warning; delete --force removes it', () => {
    const r2 = path.join(base, 'damaged');
    fs.mkdirSync(path.join(r2, 'bad'), { recursive: true });
    fs.writeFileSync(path.join(r2, 'bad', 'state.json'), '{"id": ');
    const l = moat(r2, ['list', '-q']);
    assert.equal(l.status, 0, l.stderr);
    assert.equal(l.stdout, '');
    assert.match(
      l.stderr,
      /^moat: warning: list: skipping container "bad": read ".*": invalid JSON/m,
    );
    const s = moat(r2, ['state', 'bad']);
    assert.equal(s.status, 1);
    assert.match(s.stderr, /^moat: read ".*state\.json": invalid JSON/m);
    assert.equal(moat(r2, ['delete', 'bad']).status, 1);
    assert.equal(moat(r2, ['delete', '--force', 'bad']).status, 0);
    assert.deepEqual(fs.readdirSync(r2), []);
  });

  it('delete removes what a create that died half-way left (a directory without state)', () => {
    const r3 = path.join(base, 'halfway');
    fs.mkdirSync(path.join(r3, 'half'), { recursive: true });
    const d = moat(r3, ['delete', '--force', 'half']);
    assert.equal(d.status, 0, d.stderr);
    assert.deepEqual(fs.readdirSync(r3), []);
  });
});

describe('global flags', () => {
  it('writes errors to --log as json lines and to stderr', () => {
    const log = path.join(base, 'log.json');
    const r = moat(root, ['--log', log, '--log-format', 'json', 'state', 'nosuch']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^moat: container "nosuch" does not exist$/m);
    const line = JSON.parse(fs.readFileSync(log, 'utf8').trim().split('\n').pop() ?? '') as {
      level: string;
      msg: string;
      time: string;
    };
    assert.equal(line.level, 'error');
    assert.equal(line.msg, 'container "nosuch" does not exist');
    assert.ok(!Number.isNaN(Date.parse(line.time)));
  });

  it('writes text lines with --log-format text, debug lines with --debug', () => {
    const log = path.join(base, 'log.txt');
    const r = moat(root, ['--log=' + log, '--debug', '--systemd-cgroup', 'state', 'nosuch']);
    assert.equal(r.status, 1);
    const text = fs.readFileSync(log, 'utf8');
    assert.match(text, /level=error msg="container \\"nosuch\\" does not exist"/);
    assert.match(text, /level=debug msg="--systemd-cgroup: ignored/);
  });

  it('prints the version and help', () => {
    const v = moat(root, ['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^moat version \d+\.\d+\.\d+\nspec: 1\./);
    const h = moat(root, ['--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /USAGE:/);
    assert.match(h.stdout, /create/);
  });

  it('exits 1 with a message for usage errors', () => {
    for (const args of [
      ['frob'],
      ['--nope', 'list'],
      ['--log-format', 'xml', 'list'],
      ['state'],
      ['state', 'a', 'b'],
      ['kill', 'x', 'SIGNOPE'],
      ['delete', '--wat', 'x'],
      ['do'],
      ['exec', 'x', 'sh'],
    ]) {
      const r = moat(root, args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, /^moat: /, args.join(' '));
    }
    assert.equal(fs.existsSync(root), false, 'no state root created by failed commands');
    assert.match(moat(root, ['pause', 'x']).stderr, /^moat: pause: not supported by moat yet$/m);
  });
});
