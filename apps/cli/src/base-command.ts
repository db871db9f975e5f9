import { existsSync } from 'node:fs';
import {
  Aborted,
  DesyncError,
  EXIT_CODES,
  openStore,
  registerStoreScheme,
  type Store,
  StoreError,
  type StoreOpenOptions,
} from '@desync/core';
import { httpStoreScheme } from '@desync/store-http/scheme';
import { LocalStore, localStoreScheme } from '@desync/store-local';
import { s3StoreScheme } from '@desync/store-s3/scheme';
import { sshStoreScheme } from '@desync/store-ssh/scheme';
import { Command, Errors } from '@oclif/core';

// The CLI offers every store adapter it ships; a library user registers only theirs. The
// scheme entries are light: an adapter's SDK (AWS, ssh2) loads when a store is opened.
registerStoreScheme(localStoreScheme);
registerStoreScheme(httpStoreScheme);
registerStoreScheme(s3StoreScheme);
registerStoreScheme(sshStoreScheme);

// oclif ends every usage error's message with this hint (parser/errors.js, parser/parse.js).
const USAGE_HINT = /\nSee more help with --help$/;

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
    // oclif's usage errors (unknown flag, missing argument, bad flag value) span several lines
    // and print the usage; they get the same one-line form as every other error.
    if (err instanceof Errors.CLIError && ('parse' in err || USAGE_HINT.test(err.message))) {
      const reason = err.message
        .replace(USAGE_HINT, '')
        .replace(/^Parsing (--\S+) \n\t/, '$1: ')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '')
        .join(' ');
      this.logToStderr(`desync: ${reason}; see desync ${this.id} --help`);
      this.exit(EXIT_CODES.INVALID_ARGUMENT);
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

/**
 * Opens a store that must already exist (verify, prune): a typo in -s must not read as an
 * empty store and report success.
 */
export async function openExistingStore(location: string, open?: StoreOpenOptions): Promise<Store> {
  const store = await openStore(location, open);
  if (store instanceof LocalStore && !existsSync(store.path)) {
    await store.close();
    throw new StoreError(location, 'no such store directory');
  }
  return store;
}
