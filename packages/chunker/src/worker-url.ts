import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * The URL of a compiled worker script next to `base` (an import.meta.url). When the caller
 * runs from TypeScript sources (tests), the script is taken from the package's dist/,
 * since a worker thread cannot load .ts files.
 */
export function workerScriptUrl(base: string, name: string): URL {
  const sibling = new URL(`./${name}`, base);
  if (existsSync(sibling)) return sibling;
  return new URL(`../dist/${name}`, base);
}

/**
 * Options for the project's worker threads. A small young generation: workers allocate
 * small, short-lived objects per chunk, and V8 would otherwise grow each worker's nursery
 * to tens of MB, which on a 2-core machine costs more memory than it saves time.
 */
export const WORKER_OPTIONS = { resourceLimits: { maxYoungGenerationSizeMb: 8 } } as const;

/**
 * Workers started ahead of need (prewarmWorkers), by script URL; `failed` once they error or
 * exit. Kept on globalThis so a launcher can start them before the code that takes them is
 * even loaded (the CLI's bin/run.js, while its bundle compiles): same URL, same options.
 */
type WarmWorkers = Map<string, { worker: Worker; failed: boolean }[]>;
const WARM_KEY = Symbol.for('desync.warmWorkers');
const warm: WarmWorkers = ((globalThis as { [WARM_KEY]?: WarmWorkers })[WARM_KEY] ??= new Map());

/**
 * Starts `count` workers of `url` ahead of need: a worker thread takes tens of milliseconds
 * to boot, which a command can spend parsing its arguments instead of waiting. They do not
 * keep the process alive until a pool takes them (takeWorker). Returns the waiting workers
 * of `url` (a launcher may listen to them before a pool takes them).
 */
export function prewarmWorkers(url: URL, count: number): Worker[] {
  const list = warm.get(url.href) ?? [];
  for (let i = list.length; i < count; i++) {
    const entry = { worker: new Worker(url, WORKER_OPTIONS), failed: false };
    entry.worker.unref();
    entry.worker.once('error', () => (entry.failed = true));
    entry.worker.once('exit', () => (entry.failed = true));
    list.push(entry);
  }
  warm.set(url.href, list);
  return list.map((entry) => entry.worker);
}

/** A worker of `url`: one started by prewarmWorkers when there is a healthy one, else a new one. */
export function takeWorker(url: URL): Worker {
  const list = warm.get(url.href);
  while (list && list.length > 0) {
    const entry = list.pop()!;
    if (entry.failed) continue;
    entry.worker.ref();
    return entry.worker;
  }
  return new Worker(url, WORKER_OPTIONS);
}
