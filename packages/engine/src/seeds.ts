import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type ChunkSizes, chunkFile, chunkStream } from '@desync/chunker';
import { describeSystemError, digestChunk, FileError, InvalidArgument } from '@desync/core';
import { type ChunkIndex, readIndex } from '@desync/index-format';

/**
 * A seed: a file whose chunks extract copies instead of fetching. With `index`, the index
 * describes the file (casync/desync seeds); without, the file (or block device) is chunked
 * on the fly with the target index's chunk sizes. Seed bytes are always re-hashed when
 * copied, so a seed that changed since its index was made cannot corrupt the output.
 */
export interface SeedSpec {
  /** The seed's data: a file or block device. */
  file: string;
  /** Its index: a path (.caibx) or a parsed index. */
  index?: string | ChunkIndex;
}

/** Where a chunk can be copied from. */
export interface SeedLocation {
  file: string;
  offset: number;
}

/** The chunks that seeds hold, by id. */
export type SeedChunks = ReadonlyMap<string, SeedLocation>;

/**
 * Reads (or computes) the chunk lists of `seeds`; for an id held by several seeds, or
 * several times in one, the first place wins.
 * @throws FileError naming a seed file or index that cannot be read.
 */
export async function openSeeds(
  seeds: readonly SeedSpec[],
  sizes: ChunkSizes,
  signal?: AbortSignal,
): Promise<SeedChunks> {
  const found = new Map<string, SeedLocation>();
  const add = (id: string, file: string, offset: number): void => {
    if (!found.has(id)) found.set(id, { file, offset });
  };
  for (const seed of seeds) {
    const st = await stat(seed.file).catch((err: unknown) => {
      throw new FileError(seed.file, `cannot read seed: ${describeSystemError(err)}`, { cause: err });
    });
    if (seed.index !== undefined) {
      const index = typeof seed.index === 'string' ? await readIndex(seed.index) : seed.index;
      for (let i = 0; i < index.length; i++) {
        const c = index.chunk(i);
        add(c.id, seed.file, c.start);
      }
    } else if (st.isFile()) {
      for await (const batch of chunkFile(seed.file, { sizes, signal })) {
        for (const c of batch) add(c.id, seed.file, c.start);
      }
    } else if (st.isBlockDevice()) {
      // A block device's size is not in stat: stream it through the chunker instead.
      for await (const c of chunkStream(createReadStream(seed.file, { signal }), sizes)) {
        add(digestChunk(c.data), seed.file, c.start);
      }
    } else {
      throw new InvalidArgument(`seed ${seed.file} is neither a file nor a block device`);
    }
  }
  return found;
}

/**
 * Resolves `--seed` values: `X.caibx` (the data is X), `X.caibx=DATA` (an explicit pair),
 * or a plain file/device without index.
 */
export function parseSeedArgument(value: string): SeedSpec {
  const eq = value.indexOf('.caibx=');
  if (eq !== -1) return { index: value.slice(0, eq + 6), file: value.slice(eq + 7) };
  if (value.endsWith('.caibx')) return { index: value, file: value.slice(0, -'.caibx'.length) };
  return { file: value };
}
