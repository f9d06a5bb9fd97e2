// Loads an OCI bundle (runtime-spec bundle.md): <bundle>/config.json, validated, and the
// root file system it names (root.path, relative to the bundle), which must exist and be a
// directory. Reads only; never writes to the bundle or follows anything but root.path.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { OciError } from './errors.js';
import type { Spec } from './spec_types.js';
import { parseSpec } from './spec_validate.js';

export interface Bundle {
  /** Absolute path of the bundle directory. */
  dir: string;
  spec: Spec;
  /** Absolute path of the root file system. */
  rootfs: string;
}

function errnoCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : 'unknown error';
}

export function loadBundle(bundleDir: string): Bundle {
  const dir = path.resolve(bundleDir);
  const configPath = path.join(dir, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch (e) {
    const why = errnoCode(e) === 'ENOENT' ? 'no such file' : errnoCode(e);
    throw new OciError('OCI_INVALID_BUNDLE', `load bundle "${dir}": read config.json: ${why}`, {
      cause: e,
    });
  }
  const spec = parseSpec(text);
  const rootfs = path.resolve(dir, spec.root.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch (e) {
    const why = errnoCode(e) === 'ENOENT' ? 'no such directory' : errnoCode(e);
    throw new OciError('OCI_INVALID_SPEC', `config.json: root.path: "${rootfs}": ${why}`, {
      cause: e,
    });
  }
  if (!st.isDirectory()) {
    throw new OciError('OCI_INVALID_SPEC', `config.json: root.path: "${rootfs}": not a directory`);
  }
  return { dir, spec, rootfs };
}
