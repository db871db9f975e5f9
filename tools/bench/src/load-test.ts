import { Agent, type IncomingMessage, request } from 'node:http';
import type { Socket } from 'node:net';

/** How hard to push a chunk server. */
export interface LoadTestOptions {
  /** Base URL of the store, ending in `/` (chunks are `<base><4 hex>/<id>.cacnk`). */
  baseUrl: string;
  /** Chunk ids (64 hex) to pick from at random. */
  ids: readonly string[];
  /** Keep-alive clients, each with its own connection, each asking one chunk after another. */
  clients: number;
  /** How long the keep-alive phase runs, in seconds. */
  seconds: number;
  /** Connections opened at once in the burst phase, one GET each (`Connection: close`). */
  burst: number;
  /** Clients sharing one http.Agent (maxSockets = this). Default 100. */
  groupSize?: number;
  /** A request taking longer than this counts as a timeout error. Default 60 000 ms. */
  timeoutMs?: number;
  /** Seeds the choice of chunks, so runs ask the same sequence. Default 1. */
  seed?: number;
}

/** What one phase of the load test saw. */
export interface LoadPhaseResult {
  phase: 'keep-alive' | 'burst';
  /** Clients (keep-alive) or connections (burst) asked for. */
  clients: number;
  /** TCP connections the client side actually opened. */
  connections: number;
  /** Wall seconds of the phase. */
  seconds: number;
  /** Requests answered 200 with the whole body. */
  requests: number;
  requestsPerSecond: number;
  /** Body bytes received, MiB per second. */
  mbPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /**
   * 99th percentile of the time from a request to the client's TCP connect completing (only
   * requests that opened a connection). A full accept queue on the server does not show here
   * (the handshake completes first) but in the latency and the kernel's ListenOverflows.
   */
  connectP99Ms: number | null;
  /** Failed requests (errors + non-200 answers + timeouts). */
  errors: number;
  /** Failures by kind: an error code (`ECONNRESET`, `EMFILE`), `timeout` or `HTTP 503`. */
  errorKinds: Record<string, number>;
}

/** The value at percentile `p` (0–100) of ascending `sorted`, nearest rank; null when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

// xorshift32: a cheap seeded choice of chunks (not crypto).
function chooser(seed: number, count: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % count;
  };
}

class Tally {
  readonly latencies: number[] = [];
  readonly connectLatencies: number[] = [];
  readonly errorKinds: Record<string, number> = {};
  readonly sockets = new WeakSet<Socket>();
  connections = 0;
  bytes = 0;
  errors = 0;

  fail(kind: string): void {
    this.errors++;
    this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
  }

  result(phase: LoadPhaseResult['phase'], clients: number, seconds: number): LoadPhaseResult {
    const sorted = Float64Array.from(this.latencies).sort();
    return {
      phase,
      clients,
      connections: this.connections,
      seconds,
      requests: this.latencies.length,
      requestsPerSecond: this.latencies.length / seconds,
      mbPerSecond: this.bytes / 2 ** 20 / seconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.length > 0 ? sorted[sorted.length - 1] : null,
      connectP99Ms: percentile(Float64Array.from(this.connectLatencies).sort(), 99),
      errors: this.errors,
      errorKinds: this.errorKinds,
    };
  }
}

/** One GET; resolves when it has been answered and counted (never rejects). */
function get(url: string, agent: Agent | false, tally: Tally, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    let settled = false;
    const done = (kind?: string) => {
      if (settled) return;
      settled = true;
      if (kind === undefined) tally.latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      else tally.fail(kind);
      resolve();
    };
    const req = request(url, { agent, headers: agent === false ? { connection: 'close' } : {} });
    req.on('socket', (socket: Socket) => {
      if (!tally.sockets.has(socket)) {
        tally.sockets.add(socket);
        tally.connections++;
        socket.once('connect', () =>
          tally.connectLatencies.push(Number(process.hrtime.bigint() - start) / 1e6),
        );
      }
    });
    req.setTimeout(timeoutMs, () => {
      done('timeout');
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    req.on('response', (res: IncomingMessage) => {
      res.on('data', (piece: Buffer) => {
        tally.bytes += piece.length;
      });
      res.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
      res.on('aborted', () => done('aborted'));
      res.on('end', () => done(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
    });
    req.end();
  });
}

function chunkUrl(baseUrl: string, id: string): string {
  return `${baseUrl}${id.slice(0, 4)}/${id}.cacnk`;
}

/**
 * Keep-alive phase: `clients` loops, each with its own connection (groups of `groupSize`
 * share an Agent), GET random chunks back to back for `seconds`; requests still open at the
 * end are waited for and counted.
 */
export async function keepAlivePhase(options: LoadTestOptions): Promise<LoadPhaseResult> {
  const groupSize = options.groupSize ?? 100;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const next = chooser(options.seed ?? 1, options.ids.length);
  const tally = new Tally();
  const agents: Agent[] = [];
  const start = process.hrtime.bigint();
  const end = Date.now() + options.seconds * 1000;
  const loops: Promise<void>[] = [];
  for (let client = 0; client < options.clients; client++) {
    if (client % groupSize === 0)
      agents.push(new Agent({ keepAlive: true, maxSockets: groupSize, maxFreeSockets: groupSize }));
    const agent = agents[agents.length - 1];
    loops.push(
      (async () => {
        while (Date.now() < end)
          await get(chunkUrl(options.baseUrl, options.ids[next()]), agent, tally, timeoutMs);
      })(),
    );
  }
  await Promise.all(loops);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const agent of agents) agent.destroy();
  return tally.result('keep-alive', options.clients, seconds);
}

/** Burst phase: `burst` new connections opened in the same tick, one GET each. */
export async function burstPhase(options: LoadTestOptions): Promise<LoadPhaseResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const next = chooser((options.seed ?? 1) + 1, options.ids.length);
  const tally = new Tally();
  const start = process.hrtime.bigint();
  const requests: Promise<void>[] = [];
  for (let i = 0; i < options.burst; i++)
    requests.push(get(chunkUrl(options.baseUrl, options.ids[next()]), false, tally, timeoutMs));
  await Promise.all(requests);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return tally.result('burst', options.burst, seconds);
}
