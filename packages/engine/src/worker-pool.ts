import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { prewarmWorkers, takeWorker, workerScriptUrl } from '@desync/chunker';
import type {
  WorkerReady,
  WorkerRequest,
  WorkerResponse,
  WorkerResult,
  WorkerTask,
} from './worker-protocol.js';

/**
 * A fixed set of engine worker threads. Tasks go to the worker with the fewest in flight;
 * callers bound how many they submit (the pool itself queues without limit).
 */
export class WorkerPool {
  private readonly workers: { worker: Worker; inFlight: number }[] = [];
  private readonly waiting = new Map<number, (r: WorkerResult) => void>();
  private seq = 1;
  private crashed: Error | undefined;
  private closed = false;

  constructor(size: number = availableParallelism()) {
    const url = workerScriptUrl(import.meta.url, 'engine-worker.js');
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = takeWorker(url);
      const slot = { worker, inFlight: 0 };
      worker.on('message', (msg: WorkerResponse | WorkerReady) => {
        if (!('seq' in msg)) return;
        slot.inFlight--;
        const done = this.waiting.get(msg.seq);
        this.waiting.delete(msg.seq);
        done?.(msg.result);
      });
      worker.on('error', (err) => {
        this.crashed = err;
        for (const done of this.waiting.values()) done({ ok: false, kind: 'io', message: err.message });
        this.waiting.clear();
      });
      this.workers.push(slot);
    }
  }

  /** How many worker threads run tasks. */
  get size(): number {
    return this.workers.length;
  }

  /** Runs a task; buffers in `transfer` move to the worker (the caller must not reuse them). */
  run(task: WorkerTask, transfer: ArrayBuffer[] = []): Promise<WorkerResult> {
    if (this.crashed) return Promise.resolve({ ok: false, kind: 'io', message: this.crashed.message });
    let slot = this.workers[0];
    for (const s of this.workers) if (s.inFlight < slot.inFlight) slot = s;
    const seq = this.seq++;
    slot.inFlight++;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      slot.worker.postMessage({ seq, task } satisfies WorkerRequest, transfer);
    });
  }

  /** Closes the workers' files, then ends the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.crashed) {
      await Promise.all(
        this.workers.map(
          (slot) =>
            new Promise<void>((resolve) => {
              const seq = this.seq++;
              slot.inFlight++;
              this.waiting.set(seq, () => resolve());
              slot.worker.postMessage({ seq, task: { type: 'close-files' } } satisfies WorkerRequest);
            }),
        ),
      );
    }
    await Promise.all(this.workers.map((s) => s.worker.terminate()));
  }
}

/** Starts the engine workers of a coming pool now (see prewarmWorkers); default one per CPU. */
export function prewarmEngineWorkers(count: number = availableParallelism()): void {
  prewarmWorkers(workerScriptUrl(import.meta.url, 'engine-worker.js'), count);
}

/** The ArrayBuffer of `data` when it can be moved to a worker without affecting others. */
export function transferable(data: Uint8Array): ArrayBuffer[] {
  return data.byteOffset === 0 &&
    data.buffer.byteLength === data.byteLength &&
    !(data.buffer instanceof SharedArrayBuffer)
    ? [data.buffer as ArrayBuffer]
    : [];
}
