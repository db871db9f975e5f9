import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchError } from './bench-error.js';

/** What one run of one command cost. */
export interface Measurement {
  /** Wall-clock seconds from spawn to exit (process.hrtime). */
  wallSeconds: number;
  /** User CPU seconds of the command and the children it waited for; null if unmeasured. */
  userSeconds: number | null;
  /** System CPU seconds, likewise. */
  systemSeconds: number | null;
  /** userSeconds + systemSeconds. */
  cpuSeconds: number | null;
  /** Peak resident set size in KiB (the largest single process, not a sum); null if unmeasured. */
  peakRssKb: number | null;
}

/**
 * How CPU and memory are measured. `gnu-time`: /usr/bin/time (getrusage of the child, exact).
 * `proc-poll`: /proc/<pid>/stat and VmHWM sampled every 20 ms, so slightly low. `wall-only`: neither.
 */
export type MeasureMethod = 'gnu-time' | 'proc-poll' | 'wall-only';

/** Options for measureCommand. */
export interface MeasureOptions {
  /** From detectMeasureMethod(). */
  method: MeasureMethod;
  /** Names the command in errors, e.g. `desync-ts make (new chunks)`. */
  label: string;
  /** Where GNU time writes its report; a directory the caller owns. */
  scratchDir: string;
  /** Extra environment variables for the command (added to this process's environment). */
  env?: Record<string, string>;
}

const GNU_TIME = '/usr/bin/time';
const TAIL_BYTES = 16 << 10;
// Linux reports /proc/<pid>/stat times in USER_HZ, which is 100 on every architecture.
const USER_HZ = 100;
const POLL_MS = 20;

/** Picks the best way to measure on this machine: GNU time, then /proc polling, then wall time. */
export async function detectMeasureMethod(): Promise<MeasureMethod> {
  if (existsSync(GNU_TIME)) {
    // BusyBox and BSD time lack -f/-o; trying them is the only reliable test. The probe runs
    // node by absolute path so a bare PATH cannot make a working time look broken.
    const works = await new Promise<boolean>((resolve) => {
      const probe = [process.execPath, '-e', ''];
      const child = spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', '/dev/null', ...probe], { stdio: 'ignore' });
      child.on('error', () => resolve(false));
      child.on('close', (code) => resolve(code === 0));
    });
    if (works) return 'gnu-time';
  }
  return existsSync('/proc/self/status') ? 'proc-poll' : 'wall-only';
}

let reportCount = 0;
const running = new Set<ChildProcess>();

/**
 * Kills every command measureCommand is running and resolves once they have exited. For signal
 * handlers: the tools must be gone before the temp dir is removed, or they keep writing into it.
 */
export async function stopRunningCommands(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
            return resolve();
          child.once('close', () => resolve());
          try {
            // The whole group: under GNU time the tool is a grandchild that killing time would orphan.
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            resolve();
          }
        }),
    ),
  );
}

/**
 * Variables left out of every measured command's environment. NODE_EXTRA_CA_CERTS: Node 20
 * (not 22 or 24) reads and parses that file at every start, before any of our code runs
 * (50 ms of a 0.8 s extract where it names the system bundle); nothing measured here uses
 * TLS, and casync never reads it.
 */
export const UNSET_VARIABLES = ['NODE_EXTRA_CA_CERTS'] as const;

/** The environment of a measured command: this process's, less UNSET_VARIABLES, plus `extra`. */
export function measuredEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of UNSET_VARIABLES) delete env[name];
  return env;
}

/**
 * Runs `command args` once, as its own child process, and measures it.
 * @throws BenchError COMMAND_FAILED when it exits non-zero or cannot start; the message ends
 * with the tail of its stderr.
 */
export async function measureCommand(
  command: string,
  args: readonly string[],
  options: MeasureOptions,
): Promise<Measurement> {
  const report = join(options.scratchDir, `time-${process.pid}-${reportCount++}.txt`);
  const [file, argv] =
    options.method === 'gnu-time'
      ? [GNU_TIME, ['-f', '%e %U %S %M', '-o', report, command, ...args]]
      : [command, [...args]];
  const start = process.hrtime.bigint();
  // Its own process group, so stopRunningCommands can kill the tool together with GNU time.
  const child = spawn(file, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: measuredEnvironment(options.env),
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (piece: Buffer) => {
    stdout = (stdout + piece.toString('utf8')).slice(-TAIL_BYTES);
  });
  child.stderr.on('data', (piece: Buffer) => {
    stderr = (stderr + piece.toString('utf8')).slice(-TAIL_BYTES);
  });
  const sample = { ticks: null as number | null, hwmKb: null as number | null };
  const poller =
    options.method === 'proc-poll' && child.pid !== undefined ? pollProc(child.pid, sample) : undefined;
  const { code, signal, error } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    error?: Error;
  }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  running.delete(child);
  if (poller) clearInterval(poller);

  if (error || code !== 0) {
    await rm(report, { force: true });
    const status = error ? `could not start: ${error.message}` : `exit ${code ?? signal}`;
    const output = (stderr.trim() || stdout.trim()).split('\n').slice(-20).join('\n');
    throw new BenchError(
      'COMMAND_FAILED',
      `${options.label} failed (${status})\n  $ ${[command, ...args].join(' ')}\n${output}`,
      { cause: error },
    );
  }

  if (options.method === 'gnu-time') {
    // GNU time may put a "Command exited with non-zero status" line first; the format line is last.
    const lines = (await readFile(report, 'utf8')).trim().split('\n');
    await rm(report, { force: true });
    const [, user, system, rss] = lines[lines.length - 1].split(/\s+/).map(Number);
    return {
      wallSeconds,
      userSeconds: user,
      systemSeconds: system,
      cpuSeconds: user + system,
      peakRssKb: rss,
    };
  }
  if (options.method === 'proc-poll' && sample.ticks !== null) {
    const cpuSeconds = sample.ticks / USER_HZ;
    return { wallSeconds, userSeconds: null, systemSeconds: null, cpuSeconds, peakRssKb: sample.hwmKb };
  }
  return { wallSeconds, userSeconds: null, systemSeconds: null, cpuSeconds: null, peakRssKb: null };
}

// Samples the child's CPU ticks and memory high-water mark until cleared; each read can fail
// once the child has exited, and the last good sample stands.
function pollProc(pid: number, sample: { ticks: number | null; hwmKb: number | null }): NodeJS.Timeout {
  return setInterval(() => {
    readFile(`/proc/${pid}/stat`, 'utf8')
      .then((stat) => {
        // Fields after the parenthesised command name, which may itself contain spaces:
        // state is field 3, utime 14 and stime 15 (proc(5)).
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        sample.ticks = Number(fields[11]) + Number(fields[12]);
      })
      .catch(() => {});
    readFile(`/proc/${pid}/status`, 'utf8')
      .then((status) => {
        const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
        if (hwm) sample.hwmKb = Math.max(sample.hwmKb ?? 0, Number(hwm[1]));
      })
      .catch(() => {});
  }, POLL_MS);
}
