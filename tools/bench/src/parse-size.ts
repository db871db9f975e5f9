import { BenchError } from './bench-error.js';

// Binary multiples, as casync and dd use them: 1K = 1024 bytes.
const UNITS: Record<string, number> = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30, T: 2 ** 40 };

/**
 * Parses a byte count such as `512M`, `2G`, `64K`, `1.5G` or `4096` (suffixes are binary:
 * 1K = 1024; `KiB`/`KB`/`k` spellings are accepted too).
 * @throws BenchError (code USAGE) for anything else, or a result that is not a whole byte count.
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!match) throw new BenchError('USAGE', `invalid size "${text}": use a number with K, M or G, e.g. 512M`);
  const bytes = Number(match[1]) * UNITS[match[2].toUpperCase()];
  if (!Number.isSafeInteger(bytes)) {
    throw new BenchError('USAGE', `invalid size "${text}": it must come to a whole number of bytes`);
  }
  return bytes;
}

/** A byte count for people: `512 MiB`, `1.5 GiB`, `100 B`. */
export function formatSize(bytes: number): string {
  for (const [unit, scale] of [
    ['TiB', 2 ** 40],
    ['GiB', 1 << 30],
    ['MiB', 1 << 20],
    ['KiB', 1 << 10],
  ] as const) {
    if (bytes >= scale) return `${Number((bytes / scale).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}
