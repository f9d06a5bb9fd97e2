// Container ids: the one check that stands between a caller-supplied id and a path under
// the state root. A valid id is a single path component that can never be "." or "..",
// never contain "/" and never start with "." (those names are the store's own).

import { OciError } from './errors.js';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const MAX_ID_LENGTH = 1024;

export function isValidId(id: string): boolean {
  return id.length <= MAX_ID_LENGTH && ID_RE.test(id);
}

export function checkId(id: string): string {
  if (id === '') throw new OciError('OCI_INVALID_ID', 'invalid container id: empty');
  if (id.length > MAX_ID_LENGTH) {
    throw new OciError('OCI_INVALID_ID', `invalid container id: longer than ${MAX_ID_LENGTH}`);
  }
  if (!ID_RE.test(id)) {
    throw new OciError(
      'OCI_INVALID_ID',
      `invalid container id "${id.slice(0, 64)}": must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$`,
    );
  }
  return id;
}
