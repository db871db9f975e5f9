import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile } from '@desync/testkit';
import { BenchError } from './bench-error.js';
import { burstPhase, keepAlivePhase, type LoadPhaseResult } from './load-test.js';
import { type MeasureMethod, type Measurement, measureCommand } from './measure.js';
import {
  freePort,
  listenOverflows,
  openFileLimit,
  type ProcessPeaks,
  sampleProcess,
  stopChild,
  waitForPort,
} from './net-util.js';
import { type BenchSshd, findSshPrograms, startSshd } from './sshd.js';

/** Network workload groups, chosen with --network. */
export const NETWORKS = ['ssh', 'http', 'load'] as const;
export type Network = (typeof NETWORKS)[number];

/** The network extract workloads (ids shared with bench.ts's WORKLOADS). */
export type NetworkWorkloadId = 'ssh' | 'ssh-pull' | 'ssh-cmd' | 'http';

/** How to run one tool: program plus the arguments before the subcommand. */
export interface NetworkTool {
  command: string;
  prefix: string[];
}

/** Load-test sizes (--load-clients, --load-burst, --load-seconds). */
export interface LoadSettings {
  clients: number;
  burst: number;
  seconds: number;
}

/** Everything one kind's network workloads need. */
export interface NetworkContext {
  networks: readonly Network[];
  runs: number;
  /** The store made by the local workloads, its index, and the input the index describes. */
  store: string;
  index: string;
  inputSha256: string;
  /** Our CLI and casync; either may be absent. */
  ours?: NetworkTool;
  casync?: NetworkTool;
  /** Path of apps/cli/bin/run.js, for the chunk server and the remote `desync pull`. */
  cliBin: string;
  method: MeasureMethod;
  /** Scratch space (outputs, sshd keys, wrappers); removed by the caller. */
  dir: string;
  load: LoadSettings;
  log: (message: string) => void;
}

/** One phase of the load test plus what the server did meanwhile. */
export interface LoadPhaseReport extends LoadPhaseResult {
  /** The chunk server's largest sampled RSS during the phase, MiB. */
  serverPeakRssMb: number | null;
  /** The most descriptors the chunk server had open during the phase. */
  serverPeakFds: number | null;
  /**
   * Connections the kernel dropped during the phase because a listen queue was full (TcpExt
   * ListenOverflows, machine-wide): each costs the client a retransmission, a second or more.
   */
  listenOverflows: number | null;
}

/** The chunk-server load test of one kind's store. */
export interface LoadTestReport {
  /** Chunks in the store the clients picked from. */
  chunks: number;
  /** The server's RLIMIT_NOFILE (soft) while it ran; null when unknown. */
  serverFdLimit: number | null;
  /** The server's VmHWM after both phases, MiB. */
  serverHwmMb: number | null;
  phases: LoadPhaseReport[];
}

/** What benchNetwork measured. */
export interface NetworkResult {
  /** Keyed `${workload}/${tool}` like bench.ts's local measurements. */
  measured: Map<string, Measurement[]>;
  load: LoadTestReport | null;
  notes: string[];
}

const services = new Set<{ stop(): Promise<void> }>();

/** Stops every sshd and chunk server still running (for signal handlers). */
export async function stopServices(): Promise<void> {
  await Promise.all([...services].map((service) => service.stop().catch(() => {})));
}

/** A `desync chunk-server` child serving `store` on 127.0.0.1. */
interface ChunkServer {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  stop(): Promise<void>;
}

async function startChunkServer(cliBin: string, store: string): Promise<ChunkServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [cliBin, 'chunk-server', '-s', store, '-l', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (piece: Buffer) => {
    log = (log + piece.toString()).slice(-4000);
  });
  const server: ChunkServer = {
    child,
    baseUrl: `http://127.0.0.1:${port}/`,
    stop: async () => {
      services.delete(server);
      await stopChild(child);
    },
  };
  services.add(server);
  try {
    await waitForPort(port, child, 'desync chunk-server', () => log);
  } catch (error) {
    await server.stop();
    throw new BenchError('COMMAND_FAILED', (error as Error).message, { cause: error });
  }
  return server;
}

/** The ids of every `*.cacnk` in a local store directory. */
async function chunkIds(store: string): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of await readdir(store, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && /^[0-9a-f]{64}\.cacnk$/.test(entry.name)) ids.push(entry.name.slice(0, 64));
  }
  return ids;
}

interface Step {
  workload: NetworkWorkloadId;
  tool: 'ours' | 'casync';
  label: string;
  args: string[];
  env: Record<string, string>;
}

async function runSteps(context: NetworkContext, steps: Step[], measured: Map<string, Measurement[]>) {
  for (let run = 1; run <= context.runs; run++) {
    for (const step of steps) {
      const info = step.tool === 'ours' ? context.ours : context.casync;
      if (!info) continue;
      const output = join(context.dir, `output-${step.workload}-${step.tool}.bin`);
      await rm(output, { force: true });
      const args = [...info.prefix, 'extract', ...step.args, context.index, output];
      const measurement = await measureCommand(info.command, args, {
        method: context.method,
        label: step.label,
        scratchDir: context.dir,
        env: step.env,
      });
      context.log(`  run ${run}: ${step.label}: ${measurement.wallSeconds.toFixed(2)} s`);
      const sha = await hashFile(output);
      await rm(output, { force: true });
      if (sha !== context.inputSha256) {
        throw new BenchError(
          'OUTPUT_MISMATCH',
          `${step.label} wrote output with sha256 ${sha}, but the input has ${context.inputSha256}`,
        );
      }
      const key = `${step.workload}/${step.tool}`;
      measured.set(key, [...(measured.get(key) ?? []), measurement]);
    }
  }
}

async function sshSteps(context: NetworkContext, sshd: BenchSshd): Promise<Step[]> {
  // The remote end of "remote desync pull": our CLI, run by sshd through the user's shell.
  const remoteOurs = join(context.dir, 'desync-remote');
  await writeFile(remoteOurs, `#!/bin/sh\nexec '${process.execPath}' '${context.cliBin}' "$@"\n`, {
    mode: 0o755,
  });
  const casyncPath = context.casync?.command ?? 'casync';
  const ourLocation = `ssh://${sshd.user}@127.0.0.1:${sshd.port}${context.store}`;
  const casyncStore = `--store=127.0.0.1:${context.store}`;
  // Our built-in ssh2 client: keys and known_hosts from a temp HOME, no agent, no ssh command.
  const ssh2 = { HOME: sshd.home, SSH_AUTH_SOCK: '', CASYNC_SSH_PATH: '' };
  const steps: Step[] = [];
  if (context.casync) {
    steps.push(
      {
        workload: 'ssh',
        tool: 'ours',
        label: 'desync-ts extract over ssh (ssh2 → casync pull)',
        args: ['-s', ourLocation],
        env: { ...ssh2, CASYNC_REMOTE_PATH: casyncPath },
      },
      {
        workload: 'ssh',
        tool: 'casync',
        label: 'casync extract over ssh (ssh → casync pull)',
        args: [casyncStore],
        env: { CASYNC_SSH_PATH: sshd.sshWithPort, CASYNC_REMOTE_PATH: casyncPath },
      },
    );
  }
  steps.push(
    {
      workload: 'ssh-pull',
      tool: 'ours',
      label: 'desync-ts extract over ssh (ssh2 → desync pull)',
      args: ['-s', ourLocation],
      env: { ...ssh2, CASYNC_REMOTE_PATH: remoteOurs },
    },
    {
      workload: 'ssh-pull',
      tool: 'casync',
      label: 'casync extract over ssh (ssh → desync pull)',
      args: [casyncStore],
      env: { CASYNC_SSH_PATH: sshd.sshWithPort, CASYNC_REMOTE_PATH: remoteOurs },
    },
    {
      workload: 'ssh-cmd',
      tool: 'ours',
      label: 'desync-ts extract over ssh (CASYNC_SSH_PATH → desync pull)',
      args: ['-s', ourLocation],
      env: { CASYNC_SSH_PATH: sshd.sshPlain, CASYNC_REMOTE_PATH: remoteOurs, SSH_AUTH_SOCK: '' },
    },
  );
  return steps;
}

async function loadTest(context: NetworkContext, notes: string[]): Promise<LoadTestReport> {
  const ids = await chunkIds(context.store);
  if (ids.length === 0)
    throw new BenchError('COMMAND_FAILED', `no chunks in ${context.store} to load-test with`);
  // Node raises its soft RLIMIT_NOFILE to the hard limit at start-up, in the server and here;
  // the phases run one after the other, so the larger of the two must fit, with room to spare.
  const limit = (await openFileLimit('self'))?.soft ?? Number.POSITIVE_INFINITY;
  const room = Math.max(0, limit - 256);
  const clients = Math.min(context.load.clients, room);
  const burst = Math.min(context.load.burst, room);
  if (clients < context.load.clients || burst < context.load.burst) {
    const note =
      `load test: the open-file limit is ${limit}, so it ran ${clients} clients and a burst of ${burst} ` +
      `instead of ${context.load.clients} and ${context.load.burst}; raise it with \`ulimit -Hn\` ` +
      '(as root) or `prlimit --nofile=N:N --pid $$` before `pnpm bench`.';
    context.log(`note: ${note}`);
    notes.push(note);
  }
  const server = await startChunkServer(context.cliBin, context.store);
  try {
    const pid = server.child.pid ?? 0;
    const serverFdLimit = (await openFileLimit(pid))?.soft ?? null;
    const settings = { baseUrl: server.baseUrl, ids, clients, burst, seconds: context.load.seconds };
    const phases: LoadPhaseReport[] = [];
    let last: ProcessPeaks | undefined;
    for (const [name, phase] of [
      ['keep-alive', keepAlivePhase],
      ['burst', burstPhase],
    ] as const) {
      if (name === 'burst' && burst === 0) continue;
      context.log(
        `  load test: ${name === 'burst' ? `burst of ${burst} connections` : `${clients} keep-alive clients for ${context.load.seconds} s`}`,
      );
      const overflowsBefore = await listenOverflows();
      const sampler = sampleProcess(pid);
      const result = await phase(settings);
      last = await sampler.stop();
      const overflowsAfter = await listenOverflows();
      phases.push({
        ...result,
        serverPeakRssMb: last.peakRssKb === null ? null : last.peakRssKb / 1024,
        serverPeakFds: last.peakFds,
        listenOverflows:
          overflowsBefore === null || overflowsAfter === null ? null : overflowsAfter - overflowsBefore,
      });
      context.log(
        `  load test ${name}: ${result.requests} requests, ${result.requestsPerSecond.toFixed(0)}/s, ` +
          `p99 ${result.p99Ms?.toFixed(1) ?? 'n/a'} ms, ${result.errors} errors, ` +
          `${phases[phases.length - 1].listenOverflows ?? 'n/a'} listen overflows`,
      );
      if (server.child.exitCode !== null || server.child.signalCode !== null) {
        throw new BenchError('COMMAND_FAILED', `desync chunk-server died during the ${name} phase`);
      }
    }
    return {
      chunks: ids.length,
      serverFdLimit,
      serverHwmMb: last?.hwmKb == null ? null : last.hwmKb / 1024,
      phases,
    };
  } finally {
    await server.stop();
  }
}

/** Runs the chosen network workloads against one kind's store. */
export async function benchNetwork(context: NetworkContext): Promise<NetworkResult> {
  const measured = new Map<string, Measurement[]>();
  const notes: string[] = [];
  await mkdir(context.dir, { recursive: true });
  if (context.networks.includes('ssh')) {
    const programs = findSshPrograms();
    if ('missing' in programs) {
      const note = `extract over ssh skipped: ${programs.missing.join(', ')} not found (apt-get install openssh-server openssh-client).`;
      context.log(`note: ${note}`);
      notes.push(note);
    } else {
      context.log('network: starting sshd on 127.0.0.1');
      const sshd = await startSshd(programs);
      services.add(sshd);
      try {
        await runSteps(context, await sshSteps(context, sshd), measured);
      } finally {
        services.delete(sshd);
        await sshd.stop();
      }
    }
  }
  if (context.networks.includes('http')) {
    context.log('network: starting desync chunk-server on 127.0.0.1');
    const server = await startChunkServer(context.cliBin, context.store);
    try {
      await runSteps(
        context,
        [
          {
            workload: 'http',
            tool: 'ours',
            label: 'desync-ts extract over http',
            args: ['-s', server.baseUrl],
            env: {},
          },
          {
            workload: 'http',
            tool: 'casync',
            label: 'casync extract over http',
            args: [`--store=${server.baseUrl}`],
            env: {},
          },
        ],
        measured,
      );
    } finally {
      await server.stop();
    }
  }
  const load = context.networks.includes('load') ? await loadTest(context, notes) : null;
  return { measured, load, notes };
}
