// Error type of the sandbox launcher: starting, controlling and tearing down the Sentry and
// the Gofer. Every failure has a stable string `code` for the CLI's exit-status table and a
// lower-case "what failed: why" message. Never prints or exits.

export type SandboxErrorCode =
  | 'SANDBOX_START_FAILED'
  | 'SANDBOX_CONTROL_FAILED'
  | 'SANDBOX_STOP_FAILED'
  | 'CONTAINER_NOT_RUNNING'
  | 'CONTAINER_BAD_STATE';

export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  constructor(code: SandboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxError';
    this.code = code;
  }
}
