// Error type of the command line itself: bad usage and unsupported requests. Carries a
// stable `code` like every error outside the Sentry; never prints.

export type CliErrorCode = 'CLI_USAGE' | 'CLI_UNSUPPORTED' | 'CLI_IO';

export class CliError extends Error {
  readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}
