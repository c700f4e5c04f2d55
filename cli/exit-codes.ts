/** The exit codes CI can rely on; `deployctl --help` and the README list the same. */
export const EXIT = {
  success: 0,
  deploymentFailed: 1,
  usage: 2,
  timedOut: 3,
  cancelled: 4,
  notSignedIn: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the deployment (or the operation) failed
  2  usage error: bad arguments, an unknown or ambiguous name
  3  timed out (--timeout)
  4  the deployment was cancelled
  5  not signed in, or forbidden`;

/** An error a person can act on: one line, with the API's code when there is one. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage, 'USAGE');

/** How an API answer's status maps to an exit code. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.notSignedIn;
  if (status === 400 || status === 404) return EXIT.usage;
  return EXIT.deploymentFailed;
}

/** The one line printed for an error: `error: <message> (<CODE>)`. */
export function errorLine(error: unknown): string {
  if (error instanceof CliError) return `error: ${error.message}${error.code ? ` (${error.code})` : ''}`;
  if (error instanceof Error) return `error: ${error.message.split('\n')[0]}`;
  return `error: ${String(error)}`;
}

export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof CliError ? error.exitCode : EXIT.deploymentFailed;
}
