import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import {
  Aborted,
  type ChunkId,
  chunkIdFromBytes,
  describeSystemError,
  FileError,
  StoreError,
} from '@desync/core';
import { type ChunkSizes, DEFAULT_CHUNK_SIZES, WINDOW_SIZE } from './chunk-sizes.js';
import {
  type ChunkFileLayout,
  chunkFilePath,
  type FromWorker,
  type SectionTask,
  type ToWorker,
} from './chunk-worker-protocol.js';
import { prewarmWorkers, takeWorker, workerScriptUrl } from './worker-url.js';

/** A chunk of a file: where it starts, its length, and its id when hashing. */
export interface ChunkRecord {
  readonly start: number;
  readonly size: number;
  readonly id: ChunkId;
}

/**
 * Where new chunks go while a file is chunked (make). The workers offer each chunk's id;
 * `want` answers which ones to compress, and `put` receives their zstd frames. Delaying
 * the answer to `want` is how a slow store holds the workers back (bounded memory). A sink
 * with chunkPath has the workers store chunk files themselves instead.
 */
export interface ChunkSink {
  want(ids: ChunkId[]): Promise<boolean[]>;
  put(id: ChunkId, frame: Uint8Array, size: number): Promise<void>;
  /**
   * For a store of local chunk files (zstd frames): where chunk `id` goes. The workers then
   * decide themselves which chunks to store, those whose file is missing, without `want`
   * (when the paths follow `<dir>/<4 hex>/<id><suffix>`, else `want` still decides), write
   * the frames there (temporary file and rename) and report them through `written`.
   */
  chunkPath?(id: ChunkId): string;
  /**
   * A worker wrote a chunk file given by chunkPath. Two workers may both write a new chunk
   * (the same bytes): `written` then comes twice for it.
   */
  written?(id: ChunkId, frameSize: number, size: number): void;
  /**
   * Chunks `want` accepted that turned out not to be chunks of the file at the place they
   * were cut (a section start that was no real cut for longer than the overlap). They are
   * valid chunks, and may still be referenced elsewhere in the file.
   */
  discard?(ids: ChunkId[]): void;
}

/** Options of chunkFile. */
export interface ChunkFileOptions {
  /** Chunk sizes; default casync's 16/64/256 KiB. */
  sizes?: ChunkSizes;
  /** Worker threads; default the number of CPUs. */
  concurrency?: number;
  /** Receives new chunks to store; without it chunks are only found and hashed. */
  sink?: ChunkSink;
  /** Bytes per section one worker chunks on its own; default from file size (for tests). */
  sectionSize?: number;
  /** Called with the number of bytes chunked so far. */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

const PROBE_IDS = ['0123456789abcdef'.repeat(4), 'fedcba9876543210'.repeat(4)];

/**
 * The layout of the sink's chunk files, when chunkFilePath reproduces its chunkPath exactly
 * (then workers compute the paths themselves); undefined otherwise.
 */
function chunkFileLayoutOf(sink: ChunkSink | undefined): ChunkFileLayout | undefined {
  if (!sink?.chunkPath) return undefined;
  try {
    const path = sink.chunkPath(PROBE_IDS[0] as ChunkId);
    const name = basename(path);
    if (!name.startsWith(PROBE_IDS[0])) return undefined;
    const layout = { dir: dirname(dirname(path)), suffix: name.slice(PROBE_IDS[0].length) };
    const same = PROBE_IDS.every((id) => chunkFilePath(layout, id) === sink.chunkPath!(id as ChunkId));
    return same ? layout : undefined;
  } catch {
    return undefined; // a chunkPath that rejects these ids: `want` decides, as for other sinks
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Chooses section and overlap sizes. Sections are multiples of max (and of the first
 * possible cut where that stays small) so that in runs of zeros the section starts fall on
 * the same cuts as the serial chunker and the sections line up without a rescan.
 */
function planSections(fileSize: number, sizes: ChunkSizes, workers: number, forced?: number) {
  const overlap = Math.max(4 * sizes.avg, 2 * sizes.max);
  const first = Math.max(sizes.min, WINDOW_SIZE);
  let unit = sizes.max;
  const lcm = (first / gcd(first, sizes.max)) * sizes.max;
  if (lcm <= 8 * 1024 * 1024) unit = lcm;
  const target =
    forced ?? Math.min(32 * 1024 * 1024, Math.max(4 * 1024 * 1024, Math.ceil(fileSize / (4 * workers))));
  let section = Math.max(unit, Math.ceil(target / unit) * unit);
  while (section < 4 * overlap) section += unit;
  return { section, overlap, unit };
}

/**
 * Where each section starts (and, last, the file size). Sections have the planned size,
 * except that the last `workers` sections' worth of the file is cut into quarters: workers
 * finish one section apart, and smaller last sections leave less idle time at the end.
 * Every start stays a multiple of `unit`.
 */
function sectionStarts(
  fileSize: number,
  plan: { section: number; overlap: number; unit: number },
  workers: number,
): number[] {
  const { section, overlap, unit } = plan;
  let small = Math.floor(section / 4 / unit) * unit;
  while (small < 4 * overlap) small += unit;
  const tail = workers < 2 || small >= section ? 0 : workers * section;
  const starts: number[] = [];
  let at = 0;
  while (at < fileSize) {
    starts.push(at);
    at += fileSize - at > tail ? section : small;
  }
  starts.push(fileSize);
  return starts;
}

interface SectionResult {
  start: number;
  end: number;
  starts: Float64Array;
  sizes: Float64Array;
  ids: Uint8Array;
  /** Ids the sink wanted (and so received), or a worker stored, from this task. */
  wanted: string[];
}

/**
 * Chunks a file in worker threads, section by section, and yields its chunks in file order,
 * exactly the chunks the serial chunker finds.
 *
 * casync's cut points depend only on the previous cut, so each worker starts its section
 * as if a chunk started there and chunks on past its end into the next section; the
 * sections join at the first cut both found (desync's method). If no common cut turns up
 * in the overlap, the next section is chunked again from the last true cut.
 */
export async function* chunkFile(
  path: string,
  options: ChunkFileOptions = {},
): AsyncGenerator<ChunkRecord[]> {
  const sizes = options.sizes ?? DEFAULT_CHUNK_SIZES;
  // The pool only listens for a future 'abort' event: a signal aborted before the call
  // would otherwise go unnoticed and the whole file be chunked.
  if (options.signal?.aborted) throw new Aborted({ cause: options.signal.reason });
  let fileSize: number;
  try {
    const st = await stat(path);
    if (!st.isFile() && !st.isBlockDevice())
      throw Object.assign(new Error('not a regular file'), { code: 'EINVAL' });
    fileSize = st.size;
  } catch (err) {
    throw new FileError(path, describeSystemError(err), { cause: err });
  }
  if (fileSize === 0) return;
  const workerCount = Math.max(1, options.concurrency ?? availableParallelism());
  const plan = planSections(fileSize, sizes, workerCount, options.sectionSize);
  const { overlap } = plan;
  const starts = sectionStarts(fileSize, plan, workerCount);
  const sectionCount = starts.length - 1;
  const pool = new SectionPool(Math.min(workerCount, sectionCount), options.sink, options.signal);
  // Bytes read by each task whose section is not yet yielded, capped at its own section:
  // a worker reads ahead into the overlap and the next section, which that section's task
  // counts, and a yielded section is in doneBytes already.
  const progress = new Map<number, { start: number; bytes: number }>();
  let doneBytes = 0;
  let reported = 0;
  const report = (bytes: number) => {
    reported = Math.max(reported, Math.min(bytes, fileSize));
    options.onProgress?.(reported);
  };
  pool.onProgress = (task, bytes) => {
    if (!options.onProgress) return;
    progress.set(task.taskId, { start: task.start, bytes: Math.min(bytes, task.end - task.start) });
    let sum = doneBytes;
    for (const [taskId, p] of progress) {
      if (p.start < doneBytes) progress.delete(taskId);
      else sum += p.bytes;
    }
    report(sum);
  };
  const chunkFiles = chunkFileLayoutOf(options.sink);
  const sectionTask = (k: number, from: number, storeAll: boolean): Omit<SectionTask, 'taskId'> => {
    const end = starts[k + 1] as number;
    return {
      type: 'section',
      path,
      start: from,
      end,
      overlap,
      sizes,
      hash: true,
      // Chunks near a section's start may not be real cuts; the previous worker stores those.
      storeFrom: options.sink ? (storeAll || k === 0 ? from : from + overlap) : Number.POSITIVE_INFINITY,
      chunkFiles,
    };
  };
  try {
    const results: Promise<SectionResult>[] = [];
    const ahead = workerCount + 1;
    const launch = (k: number) => {
      if (k >= sectionCount || results[k] !== undefined) return;
      const r = pool.run(sectionTask(k, starts[k] as number, false));
      r.catch(() => undefined); // awaited in order below; a failure there is what reports it
      results[k] = r;
    };
    for (let k = 0; k < Math.min(ahead, sectionCount); k++) launch(k);
    let current = await results[0];
    let next = 0; // index of the first true record in `current`
    for (let k = 0; k < sectionCount; k++) {
      launch(k + ahead);
      const following = k + 1 < sectionCount ? await results[k + 1] : undefined;
      const batch: ChunkRecord[] = [];
      let joinAt = -1;
      const followingStarts = new Map<number, number>();
      if (following) {
        for (let j = 0; j < following.starts.length; j++) followingStarts.set(following.starts[j], j);
      }
      let i = next;
      for (; i < current.starts.length; i++) {
        const s = current.starts[i];
        if (following && s >= following.start) {
          const j = followingStarts.get(s);
          if (j !== undefined) {
            joinAt = j;
            break;
          }
        }
        batch.push({
          start: s,
          size: current.sizes[i],
          id: chunkIdFromBytes(current.ids.subarray(i * 32, i * 32 + 32)),
        });
      }
      if (batch.length > 0) yield batch;
      delete results[k];
      doneBytes = Math.min(fileSize, current.end);
      if (!following) break;
      if (joinAt >= 0) {
        current = following;
        next = joinAt;
      } else {
        // No common cut in the overlap: chunk the next section again from the last true cut.
        const last = batch.length > 0 ? batch[batch.length - 1] : undefined;
        const from = last ? last.start + last.size : current.start;
        const replaced = following;
        current = await pool.run(sectionTask(k + 1, from, true), true);
        next = 0;
        if (options.sink?.discard && replaced.wanted.length > 0) {
          const real = new Set<string>();
          for (let j = 0; j < current.starts.length; j++)
            real.add(chunkIdFromBytes(current.ids.subarray(j * 32, j * 32 + 32)));
          const stray = replaced.wanted.filter((id) => !real.has(id));
          if (stray.length > 0) options.sink.discard(stray as ChunkId[]);
        }
      }
    }
    await pool.drain();
    if (options.onProgress && reported < fileSize) report(fileSize);
  } finally {
    await pool.close();
  }
}

interface Pending {
  task: SectionTask;
  resolve: (r: SectionResult) => void;
  reject: (e: Error) => void;
}

/** Starts the chunk workers of a coming chunkFile now (see prewarmWorkers); default one per CPU. */
export function prewarmChunkWorkers(count: number = availableParallelism()): void {
  prewarmWorkers(workerScriptUrl(import.meta.url, 'chunk-worker.js'), count);
}

/** A fixed set of chunk workers, one section at a time each. */
class SectionPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<number, Pending>();
  private nextTaskId = 1;
  private failure: Error | undefined;
  private readonly puts = new Set<Promise<void>>();
  private readonly wantedByTask = new Map<number, string[]>();
  /** Set when the run fails: the workers stop between chunks (SectionTask.stop). */
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));
  /** Workers with a task they have not answered yet (done or error), even after a failure. */
  private readonly busy = new Set<Worker>();
  private allIdle: (() => void) | undefined;
  onProgress: ((task: SectionTask, bytes: number) => void) | undefined;

  constructor(
    size: number,
    private readonly sink: ChunkSink | undefined,
    signal: AbortSignal | undefined,
  ) {
    const url = workerScriptUrl(import.meta.url, 'chunk-worker.js');
    for (let i = 0; i < size; i++) {
      const w = takeWorker(url);
      w.on('message', (msg: FromWorker) => this.onMessage(w, msg));
      w.on('error', (err) => {
        this.idled(w); // a crashed worker answers nothing more
        this.fail(err);
      });
      this.all.push(w);
      this.idle.push(w);
    }
    signal?.addEventListener('abort', () => this.fail(new Aborted({ cause: signal.reason })), { once: true });
    // An abort while chunkFile awaited its stat has no event left to hear.
    if (signal?.aborted) this.fail(new Aborted({ cause: signal.reason }));
  }

  run(task: Omit<SectionTask, 'taskId'>, urgent = false): Promise<SectionResult> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const p = { task: { ...task, taskId: this.nextTaskId++ }, resolve, reject };
      if (urgent) this.queue.unshift(p);
      else this.queue.push(p);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      this.running.set(p.task.taskId, p);
      this.wantedByTask.set(p.task.taskId, []);
      (w as Worker & { taskId?: number }).taskId = p.task.taskId;
      this.busy.add(w);
      w.postMessage({ ...p.task, stop: this.stop } satisfies ToWorker);
    }
  }

  private onMessage(w: Worker, msg: FromWorker): void {
    if (msg.type === 'ready') return;
    if (msg.type === 'done' || msg.type === 'error') this.idled(w);
    const p = this.running.get(msg.taskId);
    if (!p) return;
    switch (msg.type) {
      case 'want':
        this.sink!.want(msg.ids as ChunkId[]).then(
          (wanted) => {
            const sink = this.sink!;
            const mine = this.wantedByTask.get(msg.taskId);
            if (mine) for (let i = 0; i < wanted.length; i++) if (wanted[i]) mine.push(msg.ids[i]);
            const paths = sink.chunkPath
              ? msg.ids.map((id, i) => (wanted[i] ? sink.chunkPath!(id as ChunkId) : null))
              : undefined;
            w.postMessage({ type: 'want-reply', queryId: msg.queryId, wanted, paths } satisfies ToWorker);
          },
          (err) => this.fail(err),
        );
        break;
      case 'written': {
        // Chunks a worker chose to store itself; those through `want` are listed already.
        const mine = p.task.chunkFiles ? this.wantedByTask.get(msg.taskId) : undefined;
        for (let i = 0; i < msg.ids.length; i++) {
          mine?.push(msg.ids[i]);
          this.sink!.written?.(msg.ids[i] as ChunkId, msg.frameSizes[i], msg.sizes[i]);
        }
        break;
      }
      case 'frames':
        msg.ids.forEach((id, i) => {
          const put = this.sink!.put(id as ChunkId, msg.frames[i], msg.sizes[i]).catch((err) =>
            this.fail(err),
          );
          this.puts.add(put);
          put.finally(() => this.puts.delete(put));
        });
        break;
      case 'progress':
        this.onProgress?.(p.task, msg.bytes);
        break;
      case 'done': {
        this.running.delete(msg.taskId);
        this.idle.push(w);
        const wanted = this.wantedByTask.get(msg.taskId) ?? [];
        this.wantedByTask.delete(msg.taskId);
        p.resolve({
          wanted,
          start: p.task.start,
          end: p.task.end,
          starts: msg.starts,
          sizes: msg.sizes,
          ids: msg.ids,
        });
        this.dispatch();
        break;
      }
      case 'error':
        // fail rejects the running tasks, this one among them (the only one, maybe).
        this.fail(workerError(p.task, msg));
        break;
    }
  }

  private idled(w: Worker): void {
    this.busy.delete(w);
    if (this.busy.size === 0) this.allIdle?.();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    Atomics.store(this.stop, 0, 1);
    for (const p of [...this.running.values(), ...this.queue]) p.reject(err);
    this.running.clear();
    this.queue.length = 0;
  }

  /** Waits for every chunk handed to the sink to be stored; throws the first failure. */
  async drain(): Promise<void> {
    while (this.puts.size > 0) await Promise.all(this.puts);
    if (this.failure) throw this.failure;
  }

  /**
   * Ends the workers. After a failure, those still in a section get a moment to stop between
   * chunks (a worker ended in the middle of writing a chunk file leaves its temporary file);
   * one waiting on something else (a `want` answer that will not come) is ended anyway.
   */
  async close(): Promise<void> {
    if (this.busy.size > 0) {
      Atomics.store(this.stop, 0, 1);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.allIdle = resolve;
        timer = setTimeout(resolve, STOP_GRACE_MS);
      });
      clearTimeout(timer);
    }
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}

/** How long close waits for busy workers to stop between chunks before ending them. */
const STOP_GRACE_MS = 2000;

/** The error a worker reported: the store's when it was writing a chunk file, else the input's. */
function workerError(task: SectionTask, msg: Extract<FromWorker, { type: 'error' }>): Error {
  const reason = msg.code ? describeSystemError(msg) : msg.message;
  if (msg.chunkFile === undefined) return new FileError(task.path, reason);
  // Name the store directory where its layout is known, else the chunk file itself.
  const where = task.chunkFiles?.dir ?? msg.chunkFile;
  return new StoreError(where, `cannot write chunk ${msg.chunk}: ${reason}`);
}
