// The one table from error codes to exit statuses. runc exits 1 for every failure, and
// moat is a drop-in for it, so every entry is 1 today; the table is where that would change.
// `run` and `do` return the container's own status, which never passes through here.

import type { CliErrorCode } from './errors.js';
import type { OciErrorCode } from '../oci/errors.js';
import type { SandboxErrorCode } from '../sandbox/errors.js';

export type ErrorCode = CliErrorCode | OciErrorCode | SandboxErrorCode;

export const EXIT_OK = 0;
/** Any error without a code (a bug): still runc's 1. */
export const EXIT_UNKNOWN = 1;

export const EXIT_STATUS: Readonly<Record<ErrorCode, number>> = {
  CLI_USAGE: 1,
  CLI_UNSUPPORTED: 1,
  CLI_IO: 1,
  OCI_INVALID_SPEC: 1,
  OCI_INVALID_BUNDLE: 1,
  OCI_INVALID_ID: 1,
  CONTAINER_NOT_FOUND: 1,
  CONTAINER_EXISTS: 1,
  STATE_CORRUPT: 1,
  STATE_IO: 1,
  STATE_LOCK_FAILED: 1,
  SANDBOX_START_FAILED: 1,
  SANDBOX_CONTROL_FAILED: 1,
  SANDBOX_STOP_FAILED: 1,
  CONTAINER_NOT_RUNNING: 1,
  CONTAINER_BAD_STATE: 1,
};

/** The exit status for a thrown value. */
export function exitStatusFor(e: unknown): number {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') {
    const status = (EXIT_STATUS as Record<string, number | undefined>)[e.code];
    if (status !== undefined) return status;
  }
  return EXIT_UNKNOWN;
}
