import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliMissing } from './errors.js';

/** Options for runCli. */
export interface RunCliOptions {
  /** Working directory; default the current one. */
  cwd?: string;
  /** Extra environment variables, merged over process.env. */
  env?: NodeJS.ProcessEnv;
  /** Written to the CLI's stdin, which is then closed; default nothing (stdin closed at once). */
  input?: string | Uint8Array;
  /** SIGKILL the CLI after this many milliseconds; default no limit. */
  timeout?: number;
  /** Aborting kills the CLI; the result then has `signal` set. */
  signal?: AbortSignal;
}

/** How the CLI ended and what it printed. */
export interface CliResult {
  /** Exit status, or null when killed by a signal. */
  code: number | null;
  /** The signal that killed it, or null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout as bytes, for commands that write binary data (`cat`). */
  stdoutBytes: Buffer;
  stderr: string;
}

/**
 * The monorepo root. Found from this file's place (tools/testkit/src or dist), not the cwd, so
 * it is right whichever package's tests run; pnpm links workspace packages by real path.
 */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

/** Absolute path of the CLI entry, apps/cli/bin/run.js. */
export function cliBinPath(): string {
  return fileURLToPath(new URL('../../../apps/cli/bin/run.js', import.meta.url));
}

/**
 * Runs `node apps/cli/bin/run.js ...args` with the current node. A non-zero exit is a result,
 * not an error, so tests can assert on failures.
 * @throws CliMissing when apps/cli/bin/run.js does not exist.
 */
export function runCli(args: readonly string[], options?: RunCliOptions): Promise<CliResult> {
  const bin = cliBinPath();
  if (!existsSync(bin)) return Promise.reject(new CliMissing(bin));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options?.cwd,
      env: options?.env ? { ...process.env, ...options.env } : process.env,
      signal: options?.signal,
      timeout: options?.timeout,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (piece: Buffer) => stdout.push(piece));
    child.stderr.on('data', (piece: Buffer) => stderr.push(piece));
    // A CLI that exits without reading stdin makes our write fail with EPIPE; that is its choice.
    child.stdin.on('error', () => {});
    child.stdin.end(options?.input);
    // An abort also emits 'error' (AbortError) before 'close'; the close result carries the signal.
    child.on('error', (error) => {
      if (error.name !== 'AbortError') reject(error);
    });
    child.on('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(stdout);
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}
