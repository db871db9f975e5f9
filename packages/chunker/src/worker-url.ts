import { existsSync } from 'node:fs';

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
