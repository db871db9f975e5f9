import { execFile } from 'node:child_process';
import { CasyncFailed, PeerMissing } from './errors.js';
import { findExecutable } from './find-executable.js';

/** Options for runCasync. */
export interface RunCasyncOptions {
  /** casync binary to run; default findCasync(). */
  casync?: string;
  /** Working directory; default the current one. */
  cwd?: string;
  /** Extra environment variables, merged over process.env. */
  env?: NodeJS.ProcessEnv;
  /** Kill casync after this many milliseconds; default no limit. */
  timeout?: number;
  /** Aborting kills casync and rejects. */
  signal?: AbortSignal;
  /** Most bytes kept from stdout and from stderr each; default 64 MiB (casync list output is large). */
  maxBuffer?: number;
}

/** What casync printed. */
export interface CasyncOutput {
  stdout: string;
  stderr: string;
}

/** The casync on PATH (like `which casync`), or undefined. Pair with requirePeer in tests. */
export function findCasync(): string | undefined {
  return findExecutable('casync');
}

/**
 * Runs casync with `args` and resolves with its output once it exits 0.
 * @throws PeerMissing when no casync is given or on PATH.
 * @throws CasyncFailed when it exits non-zero, is killed, or cannot start; the message includes stderr.
 */
export function runCasync(args: readonly string[], options?: RunCasyncOptions): Promise<CasyncOutput> {
  const casync = options?.casync ?? findCasync();
  if (casync === undefined) return Promise.reject(new PeerMissing('casync', undefined));
  return new Promise((resolve, reject) => {
    execFile(
      casync,
      args,
      {
        cwd: options?.cwd,
        env: options?.env ? { ...process.env, ...options.env } : process.env,
        timeout: options?.timeout ?? 0,
        signal: options?.signal,
        maxBuffer: options?.maxBuffer ?? 64 << 20,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          // execFile's error carries the exit status in `code` (a number) or a spawn errno (a string).
          const code = (error as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          reject(new CasyncFailed(args, code, stderr || error.message, { cause: error }));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}
