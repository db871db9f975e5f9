import { Aborted, DesyncError, EXIT_CODES, registerStoreScheme } from '@desync/core';
import { localStoreScheme } from '@desync/store-local';
import { Command } from '@oclif/core';

// The CLI offers every store adapter it ships; a library user registers only theirs.
registerStoreScheme(localStoreScheme);

/**
 * Shared behaviour of every desync command: errors a user can act on are one line on
 * stderr and a non-zero exit (stack traces only with DESYNC_DEBUG=1).
 */
export abstract class BaseCommand extends Command {
  #interrupt: AbortController | undefined;
  #onSignal: ((signal: NodeJS.Signals) => void) | undefined;

  /**
   * Aborted by the first SIGINT or SIGTERM, so the running operation stops and removes its
   * temporary files (a partial output or index would otherwise stay behind); a second signal
   * exits at once.
   */
  protected get interrupt(): AbortSignal {
    if (!this.#interrupt) {
      const controller = new AbortController();
      this.#onSignal = () => {
        if (controller.signal.aborted) process.exit(EXIT_CODES.ABORTED);
        controller.abort(new Aborted());
      };
      process.on('SIGINT', this.#onSignal);
      process.on('SIGTERM', this.#onSignal);
      this.#interrupt = controller;
    }
    return this.#interrupt.signal;
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    if (this.#onSignal) {
      process.off('SIGINT', this.#onSignal);
      process.off('SIGTERM', this.#onSignal);
    }
    return super.finally(err);
  }

  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    if (process.env.DESYNC_DEBUG === '1') this.logToStderr(err.stack ?? String(err));
    if (err instanceof DesyncError) {
      this.logToStderr(`desync: ${err.message}`);
      this.exit(EXIT_CODES[err.code] ?? 1);
    }
    // fs and stream calls given an aborted signal reject with a plain AbortError.
    if (err.name === 'AbortError') {
      this.logToStderr(`desync: ${new Aborted().message}`);
      this.exit(EXIT_CODES.ABORTED);
    }
    const sys = err as NodeJS.ErrnoException;
    if (sys.code === 'EPIPE') this.exit(0);
    if (sys.syscall && sys.code) {
      this.logToStderr(`desync: ${sys.path ? `${sys.path}: ` : ''}${sys.message}`);
      this.exit(1);
    }
    return super.catch(err);
  }
}
