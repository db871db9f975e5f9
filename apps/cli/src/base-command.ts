import { DesyncError, EXIT_CODES, registerStoreScheme } from '@desync/core';
import { localStoreScheme } from '@desync/store-local';
import { Command } from '@oclif/core';

// The CLI offers every store adapter it ships; a library user registers only theirs.
registerStoreScheme(localStoreScheme);

/**
 * Shared behaviour of every desync command: errors a user can act on are one line on
 * stderr and a non-zero exit (stack traces only with DESYNC_DEBUG=1).
 */
export abstract class BaseCommand extends Command {
  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    if (process.env.DESYNC_DEBUG === '1') this.logToStderr(err.stack ?? String(err));
    if (err instanceof DesyncError) {
      this.logToStderr(`desync: ${err.message}`);
      this.exit(EXIT_CODES[err.code] ?? 1);
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
