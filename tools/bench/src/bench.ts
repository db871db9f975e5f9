#!/usr/bin/env node
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import {
  cliBinPath,
  findCasync,
  hashFile,
  repoRoot,
  writeMixedFile,
  writeRandomFile,
  writeZeroFile,
} from '@desync/testkit';
import { BenchError, type BenchErrorCode } from './bench-error.js';
import { formatTable, type TableRow } from './format-table.js';
import { type MachineInfo, machineInfo } from './machine-info.js';
import { markdownTable } from './markdown-table.js';
import {
  detectMeasureMethod,
  type MeasureMethod,
  type Measurement,
  measureCommand,
  stopRunningCommands,
} from './measure.js';
import { median } from './median.js';
import {
  benchNetwork,
  type LoadTestReport,
  NETWORKS,
  type Network,
  type NetworkWorkloadId,
  stopServices,
} from './network.js';
import { formatSize, parseSize } from './parse-size.js';
import { type StoreStats, storeStats } from './store-stats.js';

const USAGE = `Usage: pnpm bench [options]   (or: node tools/bench/dist/bench.js [options])

Benchmarks desync-ts (apps/cli) against casync on the same generated data.

Options:
  --size SIZE     input size per kind, K/M/G suffixes (binary)        default 512M
  --kinds LIST    comma-separated data kinds: mixed, zero, random       default mixed
  --tools LIST    comma-separated tools: ours, casync                   default ours,casync
  --runs N        repetitions; the table shows medians                  default 3
  --warmup N      unmeasured extracts before each measured extract      default 1
  --seed N        generator seed                                        default 1
  --out DIR       where bench-<date>.json/.md and latest.* go           default tools/bench/results
  --tmp DIR       where inputs, stores and outputs go (needs space)     default the OS temp dir
  --keep          keep the temp data and print where it is
  --network LIST  also run network workloads, comma-separated: ssh, http, load
                  (ssh: extract over a throwaway sshd; http: extract from desync
                  chunk-server; load: chunk-server load test)                 default none
  --network-only  skip the local make/extract rows (the store is still made)
  --load-clients N   keep-alive clients of the load test                    default 2000
  --load-burst N     connections opened at once by the load test            default 5000
  --load-seconds N   how long the keep-alive phase runs                     default 10
  --help          show this text`;

const KINDS = ['mixed', 'zero', 'random'] as const;
type Kind = (typeof KINDS)[number];
const TOOLS = ['ours', 'casync'] as const;
type Tool = (typeof TOOLS)[number];
const TOOL_LABELS: Record<Tool, string> = { ours: 'desync-ts', casync: 'casync' };
// `ratioAgainst`: the workload whose casync row our row is compared with, when not its own.
const WORKLOADS: readonly { id: WorkloadId; label: string; ratioAgainst?: WorkloadId }[] = [
  { id: 'make-new', label: 'make (new chunks)' },
  { id: 'make-present', label: 'make (chunks present)' },
  { id: 'extract', label: 'extract' },
  { id: 'ssh', label: 'extract over ssh, remote casync' },
  { id: 'ssh-pull', label: 'extract over ssh, remote desync pull' },
  {
    id: 'ssh-cmd',
    label: 'extract over ssh via CASYNC_SSH_PATH, remote desync pull',
    ratioAgainst: 'ssh-pull',
  },
  { id: 'http', label: 'extract over http, desync chunk-server' },
];
type WorkloadId = 'make-new' | 'make-present' | 'extract' | NetworkWorkloadId;

// One exit status per error code, so scripts can tell a broken tool from a bad flag.
const EXIT_CODES: Record<BenchErrorCode, number> = {
  USAGE: 2,
  MISSING_TOOL: 3,
  COMMAND_FAILED: 4,
  OUTPUT_MISMATCH: 5,
  NO_SPACE: 6,
};

const NOTES = [
  'The page cache cannot be dropped without root: each input was just written and is read warm. ' +
    'Steps run in the order make (new chunks), make (chunks present), extract, one tool after the ' +
    'other, desync-ts first in odd runs and casync first in even runs, `sync` before each step.',
  'Each measured extract follows --warmup unmeasured ones whose output is deleted: on VMs whose ' +
    'host takes back idle guest memory, the first tool to write hundreds of MB after a pause pays ' +
    "the host's page faults (casync's own extract measured 1.5 s when it ran second, 1.75-2.4 s first). " +
    "No store is deleted before every step is measured: ext4 without a journal (these VMs' root " +
    'file system) does not reuse an inode for 60 s after its deletion, 360 s while its inode table ' +
    'block is dirty (as new files in that block make it), and scans past each such inode for every ' +
    'file or directory it creates: makes after a deleted store paid seconds of system time.',
  'Each step is a separate child process; wall time includes process start-up (node for ' +
    'desync-ts). MB = 2^20 bytes; MB/s = input size / wall seconds.',
  'NODE_EXTRA_CA_CERTS is unset for every measured command: Node 20 (not 22 or 24) parses that ' +
    'file at each start, before any of our code runs (50 ms where it names the system bundle); ' +
    'no workload here uses TLS and casync does not read it.',
  'CPU s is user + system of the process and the children it waited for, across all threads: ' +
    'desync-ts uses worker threads, casync one thread, so CPU s can exceed wall s for desync-ts.',
  '"make (chunks present)" repeats make into the same store (to a second index); "extract" ' +
    'writes to a path that does not exist, and its output is checked against the input (sha256).',
];

interface Options {
  sizeBytes: number;
  kinds: Kind[];
  tools: Tool[];
  runs: number;
  warmup: number;
  seed: number;
  out: string;
  tmp: string;
  keep: boolean;
  network: Network[];
  networkOnly: boolean;
  load: { clients: number; burst: number; seconds: number };
}

interface ToolInfo {
  /** Program to execute. */
  command: string;
  /** Arguments before the subcommand (node needs the script path). */
  prefix: string[];
  version: string;
}

interface WorkloadResult {
  workload: WorkloadId;
  tool: Tool;
  runs: Measurement[];
  median: Measurement;
  mbPerSecond: number;
  /** Ours over casync in MB/s; set on our rows only. */
  ratio: number | null;
}

interface KindResult {
  kind: Kind;
  sizeBytes: number;
  inputSha256: string;
  generateSeconds: number;
  /** Store contents after the last run, per tool. */
  stores: Partial<Record<Tool, StoreStats>>;
  /** Whether our index is byte-identical to casync's; null without both tools. */
  indexMatchesCasync: boolean | null;
  results: WorkloadResult[];
  /** The chunk-server load test of this kind's store; null unless --network load. */
  load: LoadTestReport | null;
}

const ARG_OPTIONS = {
  size: { type: 'string', default: '512M' },
  kinds: { type: 'string', default: 'mixed' },
  tools: { type: 'string', default: TOOLS.join(',') },
  runs: { type: 'string', default: '3' },
  warmup: { type: 'string', default: '1' },
  seed: { type: 'string', default: '1' },
  out: { type: 'string' },
  tmp: { type: 'string' },
  keep: { type: 'boolean', default: false },
  network: { type: 'string', default: '' },
  'network-only': { type: 'boolean', default: false },
  'load-clients': { type: 'string', default: '2000' },
  'load-burst': { type: 'string', default: '5000' },
  'load-seconds': { type: 'string', default: '10' },
  help: { type: 'boolean', default: false },
} as const;

function parseOptions(argv: string[]): Options | undefined {
  let values: ReturnType<typeof parseArgs<{ options: typeof ARG_OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: ARG_OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new BenchError('USAGE', `${(error as Error).message}\n\n${USAGE}`, { cause: error });
  }
  if (values.help) return undefined;
  const sizeBytes = parseSize(values.size);
  if (sizeBytes <= 0) throw new BenchError('USAGE', '--size must be more than 0');
  const list = <T extends string>(name: string, text: string, allowed: readonly T[]): T[] => {
    const items = [...new Set(text.split(',').map((item) => item.trim()))].filter(Boolean);
    const bad = items.filter((item) => !allowed.includes(item as T));
    if (bad.length > 0 || items.length === 0) {
      throw new BenchError('USAGE', `--${name} takes a comma-separated list of ${allowed.join(', ')}`);
    }
    return items as T[];
  };
  const integer = (name: string, text: string, min: number): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) {
      throw new BenchError('USAGE', `--${name} must be an integer of at least ${min}, got "${text}"`);
    }
    return value;
  };
  const tools = list('tools', values.tools, TOOLS);
  const network = values.network.trim() === '' ? [] : list('network', values.network, NETWORKS);
  if (values['network-only'] && network.length === 0)
    throw new BenchError('USAGE', '--network-only needs --network LIST');
  return {
    sizeBytes,
    kinds: list('kinds', values.kinds, KINDS),
    // Ours first whatever the flag says; even runs swap the order (see NOTES).
    tools: TOOLS.filter((tool) => tools.includes(tool)),
    runs: integer('runs', values.runs, 1),
    warmup: integer('warmup', values.warmup, 0),
    seed: integer('seed', values.seed, 0),
    out: values.out ? resolve(values.out) : join(repoRoot(), 'tools/bench/results'),
    tmp: resolve(values.tmp ?? tmpdir()),
    keep: values.keep,
    // Fixed order: ssh, http, load.
    network: NETWORKS.filter((item) => network.includes(item)),
    networkOnly: values['network-only'],
    load: {
      clients: integer('load-clients', values['load-clients'], 1),
      burst: integer('load-burst', values['load-burst'], 0),
      seconds: integer('load-seconds', values['load-seconds'], 1),
    },
  };
}

const execFileAsync = promisify(execFile);

async function versionOf(command: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(command, args, { timeout: 60_000 });
  return stdout.trim().split('\n')[0];
}

// Checks that our CLI is there and starts, before spending minutes generating data.
async function findOurs(): Promise<ToolInfo> {
  const bin = cliBinPath();
  const howTo =
    'build it first with `pnpm install && pnpm build` at the repo root, or pass --tools casync ' +
    'to benchmark casync alone';
  if (!existsSync(bin)) throw new BenchError('MISSING_TOOL', `desync-ts CLI not found at ${bin}: ${howTo}`);
  try {
    return {
      command: process.execPath,
      prefix: [bin],
      version: await versionOf(process.execPath, [bin, '--version']),
    };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? (error as Error).message;
    throw new BenchError('MISSING_TOOL', `desync-ts CLI at ${bin} does not start (${stderr}): ${howTo}`, {
      cause: error,
    });
  }
}

async function findCasyncTool(): Promise<ToolInfo | undefined> {
  const casync = findCasync();
  if (casync === undefined) return undefined;
  return { command: casync, prefix: [], version: await versionOf(casync, ['--version']) };
}

function commandFor(tool: Tool, info: ToolInfo, step: 'make' | 'extract', paths: string[]): string[] {
  const [store, index, data] = paths;
  // Both tools are asked the same thing with their default chunk sizes (16:64:256 KiB).
  const args = tool === 'ours' ? [step, '-s', store, index, data] : [step, `--store=${store}`, index, data];
  return [...info.prefix, ...args];
}

async function checkSpace(options: Options): Promise<void> {
  // Every kind's stores, a store per tool and run (kept until the bench is done; random data
  // does not shrink); an input, an extracted copy and a warm-up copy at a time, and the
  // network's own copy.
  const stores = 1.1 * options.tools.length * options.runs * options.kinds.length;
  const atATime = 1 + 2 + (options.network.length > 0 ? 1 : 0);
  // --keep keeps the inputs and outputs too.
  const kept = (1 + options.tools.length * options.runs) * options.kinds.length;
  const needed = options.sizeBytes * (stores + (options.keep ? kept : atATime));
  const fs = await statfs(options.tmp);
  const available = fs.bavail * fs.bsize;
  if (available < needed) {
    throw new BenchError(
      'NO_SPACE',
      `${options.tmp} has ${formatSize(available)} free but this run needs about ${formatSize(needed)}; ` +
        'pass a smaller --size or a --tmp on a bigger disk',
    );
  }
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function generate(kind: Kind, path: string, options: Options): Promise<void> {
  if (kind === 'mixed') await writeMixedFile(path, options.sizeBytes, options.seed);
  else if (kind === 'random') await writeRandomFile(path, options.sizeBytes, options.seed);
  else await writeZeroFile(path, options.sizeBytes);
}

async function benchKind(
  kind: Kind,
  options: Options,
  tools: Partial<Record<Tool, ToolInfo>>,
  method: MeasureMethod,
  workDir: string,
  notes: string[],
): Promise<KindResult> {
  const kindDir = join(workDir, kind);
  await mkdir(kindDir, { recursive: true });
  const input = join(kindDir, 'input.bin');
  log(`\n${kind}: generating ${formatSize(options.sizeBytes)} at ${input}`);
  const generateStart = process.hrtime.bigint();
  await generate(kind, input, options);
  const generateSeconds = Number(process.hrtime.bigint() - generateStart) / 1e9;
  const inputSha256 = await hashFile(input);
  log(`${kind}: generated in ${generateSeconds.toFixed(1)} s, sha256 ${inputSha256}`);

  const measured = new Map<string, Measurement[]>();
  const stores: KindResult['stores'] = {};
  const indexDigests: Partial<Record<Tool, string>> = {};
  // The store the network workloads serve: the last run's of the first tool (ours when it runs).
  let served: { dir: string; store: string; index: string } | undefined;
  // Stores stay until the whole bench is done (workDir goes then): deleting thousands of chunk
  // files slows every make for minutes after (see NOTES).
  for (let run = 1; run <= options.runs && !options.networkOnly; run++) {
    const order = run % 2 === 1 ? options.tools : [...options.tools].reverse();
    for (const tool of order) {
      const info = tools[tool];
      if (!info) continue;
      const dir = join(kindDir, `run-${run}`, tool);
      const store = join(dir, 'store');
      const index = join(dir, 'index.caibx');
      const output = join(dir, 'output.bin');
      // "Into an empty store": the directory exists and holds nothing, the same for both tools.
      await mkdir(store, { recursive: true });
      const steps: [WorkloadId, string[]][] = [
        ['make-new', commandFor(tool, info, 'make', [store, index, input])],
        ['make-present', commandFor(tool, info, 'make', [store, join(dir, 'index-2.caibx'), input])],
        ['extract', commandFor(tool, info, 'extract', [store, index, output])],
      ];
      for (const [workload, args] of steps) {
        const label = `${TOOL_LABELS[tool]} ${WORKLOADS.find((w) => w.id === workload)?.label}`;
        if (workload === 'extract') {
          // Unmeasured extracts first, their output deleted: the measured one then writes
          // into memory the guest just freed, whichever tool ran before (see NOTES).
          const scratch = join(dir, 'warmup.bin');
          for (let w = 0; w < options.warmup; w++) {
            await measureCommand(info.command, commandFor(tool, info, 'extract', [store, index, scratch]), {
              method,
              label: `${label} (warm-up)`,
              scratchDir: workDir,
            });
            await rm(scratch, { force: true });
          }
        }
        // Write back what earlier steps left dirty, so no step pays for another's writes.
        spawnSync('sync');
        const measurement = await measureCommand(info.command, args, { method, label, scratchDir: workDir });
        log(`${kind} run ${run}: ${label}: ${measurement.wallSeconds.toFixed(2)} s`);
        const key = `${workload}/${tool}`;
        measured.set(key, [...(measured.get(key) ?? []), measurement]);
      }
      const outputSha256 = await hashFile(output);
      if (outputSha256 !== inputSha256) {
        throw new BenchError(
          'OUTPUT_MISMATCH',
          `${TOOL_LABELS[tool]} extract wrote ${output} with sha256 ${outputSha256}, but the input ` +
            `${input} has ${inputSha256}: the timings measure a broken round trip (rerun with --keep to inspect)`,
        );
      }
      const [first, second] = await Promise.all([hashFile(index), hashFile(join(dir, 'index-2.caibx'))]);
      if (first !== second) log(`warning: ${TOOL_LABELS[tool]} wrote different indexes for the same input`);
      indexDigests[tool] = first;
      stores[tool] = await storeStats(store);
      if (options.network.length > 0 && run === options.runs && tool === options.tools[0])
        served = { dir, store, index };
      // One file: no harm to the next step.
      else if (!options.keep) await rm(output, { force: true });
    }
  }
  const firstTool = options.tools.find((tool) => tools[tool] !== undefined);
  if (options.networkOnly && firstTool) {
    // No local rows: make the store once, unmeasured, for the network workloads.
    const info = tools[firstTool]!;
    const dir = join(kindDir, 'served');
    served = { dir, store: join(dir, 'store'), index: join(dir, 'index.caibx') };
    await mkdir(served.store, { recursive: true });
    log(`${kind}: making the store for the network workloads with ${TOOL_LABELS[firstTool]}`);
    await measureCommand(
      info.command,
      commandFor(firstTool, info, 'make', [served.store, served.index, input]),
      {
        method,
        label: `${TOOL_LABELS[firstTool]} make`,
        scratchDir: workDir,
      },
    );
    stores[firstTool] = await storeStats(served.store);
  }
  let load: LoadTestReport | null = null;
  if (served) {
    log(`${kind}: network workloads (${options.network.join(', ')}) on ${served.store}`);
    const network = await benchNetwork({
      networks: options.network,
      runs: options.runs,
      store: served.store,
      index: served.index,
      inputSha256,
      ours: options.tools.includes('ours') ? tools.ours : undefined,
      casync: options.tools.includes('casync') ? tools.casync : undefined,
      cliBin: cliBinPath(),
      method,
      dir: join(kindDir, 'network'),
      load: options.load,
      log: (message) => log(`${kind}: ${message}`),
    });
    for (const [key, runs] of network.measured) measured.set(key, runs);
    for (const note of network.notes) if (!notes.includes(note)) notes.push(note);
    load = network.load;
  }
  if (!options.keep) await rm(input, { force: true });

  const mib = options.sizeBytes / 2 ** 20;
  const results: WorkloadResult[] = [];
  for (const { id, ratioAgainst } of WORKLOADS) {
    for (const tool of options.tools) {
      const runs = measured.get(`${id}/${tool}`);
      if (!runs) continue;
      const middle: Measurement = {
        wallSeconds: median(runs.map((m) => m.wallSeconds)) ?? Number.NaN,
        userSeconds: median(runs.map((m) => m.userSeconds)),
        systemSeconds: median(runs.map((m) => m.systemSeconds)),
        cpuSeconds: median(runs.map((m) => m.cpuSeconds)),
        peakRssKb: median(runs.map((m) => m.peakRssKb)),
      };
      results.push({
        workload: id,
        tool,
        runs,
        median: middle,
        mbPerSecond: mib / middle.wallSeconds,
        ratio: null,
      });
    }
    const ours = results.find((r) => r.workload === id && r.tool === 'ours');
    const casync = results.find((r) => r.workload === (ratioAgainst ?? id) && r.tool === 'casync');
    if (ours && casync) ours.ratio = ours.mbPerSecond / casync.mbPerSecond;
  }
  const indexMatchesCasync =
    indexDigests.ours && indexDigests.casync ? indexDigests.ours === indexDigests.casync : null;
  return {
    kind,
    sizeBytes: options.sizeBytes,
    inputSha256,
    generateSeconds,
    stores,
    indexMatchesCasync,
    results,
    load,
  };
}

function tableRows(kinds: readonly KindResult[]): TableRow[] {
  return kinds.flatMap((kind) =>
    kind.results.map((result) => ({
      workload: `${kind.kind} ${formatSize(kind.sizeBytes)}: ${WORKLOADS.find((w) => w.id === result.workload)?.label}`,
      tool: TOOL_LABELS[result.tool],
      mbPerSecond: result.mbPerSecond,
      wallSeconds: result.median.wallSeconds,
      cpuSeconds: result.median.cpuSeconds,
      peakRssMb: result.median.peakRssKb === null ? null : result.median.peakRssKb / 1024,
      ratio: result.ratio,
    })),
  );
}

function storeTable(kinds: readonly KindResult[]): string {
  const rows: string[][] = [];
  for (const kind of kinds) {
    for (const [tool, stats] of Object.entries(kind.stores) as [Tool, StoreStats][]) {
      const same =
        tool === 'ours' && kind.indexMatchesCasync !== null ? (kind.indexMatchesCasync ? 'yes' : 'NO') : '';
      rows.push([
        kind.kind,
        TOOL_LABELS[tool],
        String(stats.chunks),
        (stats.bytes / 2 ** 20).toFixed(1),
        (stats.bytes / kind.sizeBytes).toFixed(3),
        same,
      ]);
    }
  }
  return markdownTable(
    ['data', 'tool', 'chunks', 'store MB', 'store / input', 'index = casync'],
    [false, false, true, true, true, false],
    rows,
  );
}

function loadTable(kinds: readonly KindResult[]): string {
  const rows: string[][] = [];
  const fixed = (value: number | null, digits: number) => (value === null ? 'n/a' : value.toFixed(digits));
  for (const kind of kinds) {
    for (const phase of kind.load?.phases ?? []) {
      const failures = Object.entries(phase.errorKinds)
        .map(([name, count]) => `${name} ×${count}`)
        .join(', ');
      rows.push([
        `${kind.kind} ${formatSize(kind.sizeBytes)}`,
        phase.phase,
        String(phase.clients),
        String(phase.connections),
        phase.seconds.toFixed(1),
        String(phase.requests),
        phase.requestsPerSecond.toFixed(0),
        phase.mbPerSecond.toFixed(1),
        fixed(phase.p50Ms, 1),
        fixed(phase.p99Ms, 1),
        fixed(phase.maxMs, 1),
        fixed(phase.connectP99Ms, 1),
        phase.errors === 0 ? '0' : `${phase.errors} (${failures})`,
        fixed(phase.serverPeakRssMb, 1),
        phase.serverPeakFds === null ? 'n/a' : String(phase.serverPeakFds),
        phase.listenOverflows === null ? 'n/a' : String(phase.listenOverflows),
      ]);
    }
  }
  return markdownTable(
    [
      'data',
      'phase',
      'clients',
      'connections',
      'wall s',
      'requests',
      'req/s',
      'MB/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'p99 connect ms',
      'errors',
      'server RSS MB',
      'server fds',
      'listen overflows',
    ],
    [false, false, true, true, true, true, true, true, true, true, true, true, true, true, true, true],
    rows,
  );
}

const NETWORK_NOTES = [
  'Network workloads run on loopback against the store the local workloads made: "extract over ' +
    'ssh" through a throwaway sshd on 127.0.0.1, "extract over http" from `desync chunk-server`. ' +
    'desync-ts rows use the built-in ssh2 client unless marked CASYNC_SSH_PATH (OpenSSH, as casync ' +
    'always does); the remote is casync (`casync pull`) or our `desync pull`. Wall, CPU and RSS are ' +
    "the client's (CPU includes the ssh child with OpenSSH); the server side is not counted. The " +
    'CASYNC_SSH_PATH row is compared with casync\'s "remote desync pull" row.',
  'Load test: a fresh `desync chunk-server` on the same store; the bench process is the client ' +
    '(node:http, one Agent per 100 clients). Keep-alive phase: N clients, one connection each, GET ' +
    'random chunks back to back; burst phase: N new connections opened at once, one GET each. ' +
    'Latency is per request, from the request to the last body byte; "p99 connect" is when the ' +
    "client's TCP connect completed. Server RSS (VmRSS) and open descriptors (/proc/PID/fd) are " +
    'sampled every 200 ms; client and server share the same cores. "listen overflows" is the ' +
    'machine-wide TcpExt ListenOverflows delta over the phase (/proc/net/netstat): connections the ' +
    'kernel dropped because the accept queue was full; the client has already seen its connect ' +
    'complete and waits for retransmissions (200 ms doubling), which shows as seconds of latency.',
];

function markdown(report: {
  date: string;
  machine: MachineInfo;
  versions: Record<string, string>;
  method: MeasureMethod;
  options: Options;
  kinds: KindResult[];
  notes: string[];
}): string {
  const { machine } = report;
  return [
    `# desync-ts vs casync — ${report.date}`,
    '',
    `Machine: ${machine.cpuModel} × ${machine.cpuCount}, ${formatSize(machine.totalMemoryBytes)} RAM, ` +
      `${machine.os}, node ${machine.node}.`,
    `Tools: ${Object.entries(report.versions)
      .map(([tool, version]) => `${tool} (${version})`)
      .join(', ')}. Measured with ${report.method}.`,
    `Input: ${formatSize(report.options.sizeBytes)} per kind, seed ${report.options.seed}, ` +
      `${report.options.runs} run(s) (medians shown), ${report.options.warmup} warm-up extract(s) before each. Ratio = desync-ts MB/s ÷ casync MB/s.`,
    '',
    formatTable(tableRows(report.kinds)),
    '',
    ...(report.kinds.some((kind) => kind.load)
      ? ['Chunk-server load test:', '', loadTable(report.kinds), '']
      : []),
    'Chunk stores after make:',
    '',
    storeTable(report.kinds),
    '',
    'Notes:',
    '',
    ...report.notes.map((note) => `- ${note}`),
    '',
  ].join('\n');
}

// Set by the signal handler: the failure of the command it killed is expected, not news.
let interrupted = false;

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const notes = [...NOTES, ...(options.network.length > 0 ? NETWORK_NOTES : [])];
  const tools: Partial<Record<Tool, ToolInfo>> = {};
  if (options.tools.includes('ours')) tools.ours = await findOurs();
  // The chunk server and the remote `desync pull` are our CLI whichever clients run.
  else if (options.network.length > 0) await findOurs();
  if (options.tools.includes('casync')) {
    tools.casync = await findCasyncTool();
    if (!tools.casync) {
      const note =
        'casync is not on PATH (apt-get install casync): desync-ts is shown alone, without ratios.';
      log(`note: ${note}`);
      notes.push(note);
      options.tools = options.tools.filter((tool) => tool !== 'casync');
    }
  }
  if (options.tools.length === 0) throw new BenchError('MISSING_TOOL', 'no tool left to benchmark');
  const method = await detectMeasureMethod();
  if (method !== 'gnu-time') {
    const note =
      method === 'proc-poll'
        ? '/usr/bin/time (GNU time) is missing: CPU and peak RSS were sampled from /proc every 20 ms and read slightly low.'
        : 'Neither GNU time nor /proc is available: only wall time was measured.';
    log(`note: ${note}`);
    notes.push(note);
  }
  await mkdir(options.tmp, { recursive: true });
  await checkSpace(options);

  const workDir = await mkdtemp(join(options.tmp, 'desync-bench-'));
  // Ctrl-C must not leave gigabytes behind in the temp dir. The tools run in their own process
  // groups, so the terminal's SIGINT reaches only us; a second Ctrl-C quits at once.
  const onSignal = () => {
    interrupted = true;
    log('interrupted: stopping the running tool and cleaning up');
    void Promise.all([stopRunningCommands(), stopServices()])
      .then(() => (options.keep ? undefined : rm(workDir, { recursive: true, force: true, maxRetries: 5 })))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const versions: Record<string, string> = {};
  for (const tool of options.tools) {
    const info = tools[tool];
    if (info) versions[TOOL_LABELS[tool]] = info.version;
  }
  try {
    log(
      `benchmarking ${options.tools.map((tool) => TOOL_LABELS[tool]).join(' and ')} on ` +
        `${options.kinds.join(', ')} (${formatSize(options.sizeBytes)} each, ${options.runs} run(s)) in ${workDir}`,
    );
    const kinds: KindResult[] = [];
    for (const kind of options.kinds)
      kinds.push(await benchKind(kind, options, tools, method, workDir, notes));

    const date = new Date().toISOString();
    const machine = machineInfo();
    const report = { date, machine, versions, method, options, kinds, notes };
    const md = markdown(report);
    const json = `${JSON.stringify(
      {
        date,
        machine,
        versions,
        measurement: method,
        options: {
          sizeBytes: options.sizeBytes,
          kinds: options.kinds,
          tools: options.tools,
          runs: options.runs,
          warmup: options.warmup,
          seed: options.seed,
          network: options.network,
          networkOnly: options.networkOnly,
          load: options.network.includes('load') ? options.load : null,
        },
        kinds,
        notes,
      },
      null,
      2,
    )}\n`;
    await mkdir(options.out, { recursive: true });
    const stamp = date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
    await Promise.all([
      writeFile(join(options.out, `bench-${stamp}.json`), json),
      writeFile(join(options.out, `bench-${stamp}.md`), md),
      writeFile(join(options.out, 'latest.json'), json),
      writeFile(join(options.out, 'latest.md'), md),
    ]);
    process.stdout.write(`\n${formatTable(tableRows(kinds))}\n`);
    if (kinds.some((kind) => kind.load)) process.stdout.write(`\n${loadTable(kinds)}\n`);
    for (const kind of kinds) {
      if (kind.indexMatchesCasync === false)
        log(`warning: ${kind.kind}: desync-ts's index differs from casync's`);
    }
    log(`\nwrote ${join(options.out, `bench-${stamp}.md`)} and .json (also latest.md, latest.json)`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (options.keep) log(`kept inputs, stores and outputs in ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (interrupted) return;
  if (error instanceof BenchError) {
    log(`bench: ${error.message}`);
    process.exitCode = EXIT_CODES[error.code];
  } else {
    log(
      `bench: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = 1;
  }
});
