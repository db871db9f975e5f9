import { type ChunkSizes, DEFAULT_CHUNK_SIZES, parseChunkSizeSpec } from '@desync/chunker';
import { Flags } from '@oclif/core';

/** `-s STORE`, repeatable: stores asked in order. */
export const storeFlag = Flags.string({
  char: 's',
  description: 'chunk store (a directory); repeat to ask several in order',
  multiple: true,
  // `-s a -s b INDEX OUT`: each -s takes one value, so positional arguments may follow.
  multipleNonGreedy: true,
  required: true,
});

/** `-s STORE`, repeatable and optional: the stores of an index, when the input is one. */
export const indexStoreFlag = Flags.string({
  char: 's',
  description: 'chunk store holding the index chunks; repeat to ask several in order',
  multiple: true,
  multipleNonGreedy: true,
});

/** `-s STORE` for commands that write to one store. */
export const writeStoreFlag = Flags.string({
  char: 's',
  description: 'chunk store to write to (a directory, created if missing)',
  required: true,
});

/** `-c CACHE`: a store in front of the others, filled on misses. */
export const cacheFlag = Flags.string({
  char: 'c',
  description: 'store used as a cache: read first, filled with chunks fetched from -s',
});

/** `-n N`: concurrent operations. */
export const concurrencyFlag = Flags.integer({
  char: 'n',
  description: 'number of chunks processed at once',
  default: 10,
  min: 1,
});

/** `-m min:avg:max` in KiB. */
export const chunkSizeFlag = Flags.string({
  char: 'm',
  description: 'min:avg:max chunk size in KiB',
  default: '16:64:256',
});

/** Resolves `-m`. */
export function chunkSizesFrom(spec: string | undefined): ChunkSizes {
  return spec ? parseChunkSizeSpec(spec) : DEFAULT_CHUNK_SIZES;
}
