// Error type of the OCI layer (spec validation, bundles, container ids, the state store).
// Every failure carries a stable string `code` that the CLI maps to an exit status; messages
// are lower case "what failed: why". This module never prints, exits or touches the disk.

export type OciErrorCode =
  | 'OCI_INVALID_SPEC'
  | 'OCI_INVALID_BUNDLE'
  | 'OCI_INVALID_ID'
  | 'CONTAINER_NOT_FOUND'
  | 'CONTAINER_EXISTS'
  | 'STATE_CORRUPT'
  | 'STATE_IO'
  | 'STATE_LOCK_FAILED';

export class OciError extends Error {
  readonly code: OciErrorCode;
  constructor(code: OciErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OciError';
    this.code = code;
  }
}
