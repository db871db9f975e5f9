/** Why a benchmark run stopped; bench.ts maps each code to an exit status. */
export type BenchErrorCode =
  /** Bad command-line options. */
  | 'USAGE'
  /** A tool the run needs (our CLI, casync) is absent or does not start. */
  | 'MISSING_TOOL'
  /** A measured command exited non-zero. */
  | 'COMMAND_FAILED'
  /** An extracted file differs from its input: the run measured something broken. */
  | 'OUTPUT_MISMATCH'
  /** Not enough free disk for the input, stores and outputs. */
  | 'NO_SPACE';

/**
 * The benchmark's one error class. It does not extend core's DesyncError: the bench drives the
 * CLI as a black box and depends only on testkit. Same shape: a `code`, a message saying what
 * to do, `cause` kept.
 */
export class BenchError extends Error {
  constructor(
    readonly code: BenchErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BenchError';
  }
}
