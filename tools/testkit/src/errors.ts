/**
 * Testkit cannot use core's DesyncError: core's own tests depend on testkit, and a dependency
 * back would make a build cycle. These errors keep the same shape: a stable `code` to branch on,
 * a message saying what failed and what to do, and `cause` kept.
 */
export abstract class TestkitError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A peer binary a test needs is absent while running in CI, where skipping would hide it. */
export class PeerMissing extends TestkitError {
  readonly code = 'PEER_MISSING';
  constructor(
    readonly peer: string,
    readonly path: string | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `${peer} is missing${path ? ` (not executable: ${path})` : ' (not on PATH)'} and CI=true, so tests that ` +
        `need it cannot be skipped; install it in the CI image (e.g. apt-get install ${peer})`,
      options,
    );
  }
}

/** casync exited non-zero, or could not be started. */
export class CasyncFailed extends TestkitError {
  readonly code = 'CASYNC_FAILED';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | string | null,
    readonly stderr: string,
    options?: ErrorOptions,
  ) {
    super(
      `casync ${args.join(' ')} failed (exit ${exitCode ?? 'by signal'}): ${stderr.trim() || '(no stderr)'}`,
      options,
    );
  }
}

/** apps/cli/bin/run.js does not exist yet: the CLI has not been written or built. */
export class CliMissing extends TestkitError {
  readonly code = 'CLI_MISSING';
  constructor(
    readonly bin: string,
    options?: ErrorOptions,
  ) {
    super(`${bin} not found; build the CLI first: pnpm install && pnpm build (from the repo root)`, options);
  }
}
