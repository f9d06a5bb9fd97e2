// Unit tests of config.json validation: a runc-style spec passes; each class of bad input
// fails with OCI_INVALID_SPEC naming the field; a fixed-budget random-mutation loop shows that
// nothing but the typed error ever escapes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OciError } from './errors.js';
import { defaultSpec } from './spec_default.js';
import { parseSpec, validateSpec } from './spec_validate.js';

function base(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(defaultSpec())) as Record<string, unknown>;
}

function rejects(mutate: (s: Record<string, unknown>) => void, message: RegExp): void {
  const s = base();
  mutate(s);
  assert.throws(
    () => validateSpec(s),
    (e: unknown) =>
      e instanceof OciError && e.code === 'OCI_INVALID_SPEC' && message.test(e.message),
  );
}

function proc(s: Record<string, unknown>): Record<string, unknown> {
  return s.process as Record<string, unknown>;
}

describe('validateSpec', () => {
  it('accepts the default spec and keeps its values', () => {
    const spec = validateSpec(base());
    assert.equal(spec.ociVersion, '1.0.2');
    assert.deepEqual(spec.process.args, ['sh']);
    assert.equal(spec.root.path, 'rootfs');
    assert.equal(spec.root.readonly, true);
    assert.equal(spec.process.rlimits?.[0]?.type, 'RLIMIT_NOFILE');
    assert.equal(spec.linux?.namespaces?.length, 5);
  });

  it('accepts ociVersion 1.0 to 1.2 and pre-release suffixes', () => {
    for (const v of ['1.0.0', '1.0.2-dev', '1.1.0', '1.2.0', '1.2.1+abc']) {
      const s = base();
      s.ociVersion = v;
      assert.equal(validateSpec(s).ociVersion, v);
    }
  });

  it('rejects an unknown major version and a non-semver version', () => {
    rejects((s) => (s.ociVersion = '2.0.0'), /^config\.json: ociVersion: unsupported major/);
    rejects((s) => (s.ociVersion = 'one'), /ociVersion: "one" is not a semantic version/);
    rejects((s) => delete s.ociVersion, /ociVersion: is required/);
  });

  it('names process.args when it is empty or not strings', () => {
    const msg = /^config\.json: process\.args: must be a non-empty array of strings$/;
    rejects((s) => (proc(s).args = []), msg);
    rejects((s) => (proc(s).args = ['sh', 3]), msg);
    rejects((s) => delete proc(s).args, msg);
  });

  it('names nested fields', () => {
    rejects((s) => (proc(s).cwd = 'relative'), /process\.cwd: must be an absolute path/);
    rejects(
      (s) => ((proc(s).user as Record<string, unknown>).uid = -1),
      /process\.user\.uid: must be an integer/,
    );
    rejects((s) => (proc(s).env = ['NOEQUALS']), /process\.env\[0\]: must have the form KEY=value/);
    rejects(
      (s) => (proc(s).rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]),
      /process\.rlimits\[0\]\.type: unknown resource limit/,
    );
    rejects(
      (s) => (proc(s).rlimits = [{ type: 'RLIMIT_NOFILE', soft: 2, hard: 1 }]),
      /process\.rlimits\[0\]: soft limit is above the hard limit/,
    );
    rejects((s) => (s.mounts = [{ destination: 'proc' }]), /mounts\[0\]\.destination: must be/);
    rejects((s) => (s.root = { path: 7 }), /root\.path: must be a string/);
    rejects((s) => delete s.root, /root: is required/);
    rejects((s) => (s.annotations = { a: 1 }), /annotations\.a: must be a string/);
  });

  it('rejects what moat cannot honour', () => {
    rejects((s) => (proc(s).terminal = true), /process\.terminal: terminals are not supported/);
    rejects(
      (s) => ((s.linux as Record<string, unknown>).namespaces = [{ type: 'net', path: '/x' }]),
      /linux\.namespaces\[0\]\.type: unknown namespace type "net"/,
    );
    rejects(
      (s) =>
        ((s.linux as Record<string, unknown>).namespaces = [
          { type: 'network', path: '/proc/1/ns/net' },
        ]),
      /linux\.namespaces\[0\]\.path: joining an existing namespace is not supported/,
    );
    rejects(
      (s) => ((s.linux as Record<string, unknown>).seccomp = { defaultAction: 'SCMP_ACT_NOPE' }),
      /linux\.seccomp\.defaultAction: unknown seccomp action/,
    );
  });

  it('rejects a top level that is not an object', () => {
    for (const v of [null, 3, 'x', [], true]) {
      assert.throws(() => validateSpec(v), /config\.json: \(top level\): must be an object/);
    }
  });
});

describe('parseSpec', () => {
  it('names the line and column of malformed JSON', () => {
    assert.throws(
      () => parseSpec('{\n  "ociVersion": "1.0.0",\n  "process": {,}\n}'),
      (e: unknown) =>
        e instanceof OciError &&
        e.code === 'OCI_INVALID_SPEC' &&
        /^config\.json: invalid JSON at line 3, column \d+: /.test(e.message),
    );
  });

  it('reports truncated input', () => {
    assert.throws(() => parseSpec('{"ociVersion": "1.0'), /config\.json: invalid JSON at /);
    assert.throws(() => parseSpec(''), /config\.json: invalid JSON at /);
  });
});

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 64,
  '',
  '/',
  'x',
  '\0',
  [],
  [null],
  ['a'],
  {},
  { type: 'pid' },
  Number.NaN,
];

function mutate(v: unknown, r: () => number, depth: number): unknown {
  const pick = (): unknown => ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
  if (r() < 0.1 || depth > 6) return pick();
  if (Array.isArray(v)) {
    const a = (v as unknown[]).map((x) => (r() < 0.3 ? mutate(x, r, depth + 1) : x));
    if (r() < 0.1) a.push(pick());
    if (r() < 0.1) a.splice(Math.floor(r() * a.length), 1);
    return a;
  }
  if (typeof v === 'object' && v !== null) {
    const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const k of Object.keys(o)) {
      if (r() < 0.15) delete o[k];
      else if (r() < 0.3) o[k] = mutate(o[k], r, depth + 1);
    }
    return o;
  }
  return r() < 0.5 ? pick() : v;
}

describe('random mutations (fixed budget)', () => {
  it('never throw anything but OciError OCI_INVALID_SPEC', () => {
    const r = rng(0x5eed);
    const text = JSON.stringify(base());
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const m = mutate(base(), r, 0);
      let input = JSON.stringify(m) ?? 'null';
      if (i % 5 === 0) {
        // Byte-level damage to the JSON text as well.
        const at = Math.floor(r() * text.length);
        input = text.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + text.slice(at + 1);
      }
      try {
        parseSpec(input);
        accepted++;
      } catch (e) {
        assert.ok(e instanceof OciError, `iteration ${i}: ${String(e)}`);
        assert.equal(e.code, 'OCI_INVALID_SPEC');
        assert.match(e.message, /^config\.json: /);
      }
    }
    assert.ok(accepted > 0, 'some mutations should still be valid');
  });
});
