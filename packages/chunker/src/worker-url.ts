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
