import { InvalidArgument } from '@desync/core';

/** casync cachunker.h: the rolling hash window, in bytes. */
export const WINDOW_SIZE = 48;
/** casync cachunk.h: the smallest and largest chunk size casync accepts. */
export const CHUNK_SIZE_LIMIT_MIN = 1;
export const CHUNK_SIZE_LIMIT_MAX = 128 * 1024 * 1024;
/** casync's default average chunk size (64 KiB); min is avg/4, max avg*4. */
export const CHUNK_SIZE_AVG_DEFAULT = 64 * 1024;

/** Chunk size limits, in bytes, as casync's chunker uses them. */
export interface ChunkSizes {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

/** casync's defaults: 16 KiB / 64 KiB / 256 KiB. */
export const DEFAULT_CHUNK_SIZES: ChunkSizes = Object.freeze({
  min: CHUNK_SIZE_AVG_DEFAULT / 4,
  avg: CHUNK_SIZE_AVG_DEFAULT,
  max: CHUNK_SIZE_AVG_DEFAULT * 4,
});

/**
 * casync cachunker.h CA_CHUNKER_DISCRIMINATOR_FROM_AVG, clamped to [min, max] as
 * ca_chunker_set_size does. Computed in doubles and truncated, as C does.
 *
 * Above avg ≈ 9.32 MB (1.33237515 / 1.42888852e-7) the divisor turns negative. C's cast
 * of the negative quotient to size_t then wraps to a huge value (gcc on x86-64, as in
 * Debian's casync), which the clamp turns into max: measured with `casync make
 * --chunk-size=1048576:16777216:33554432`.
 */
export function discriminatorFor(sizes: ChunkSizes): number {
  const quotient = sizes.avg / (-1.42888852e-7 * sizes.avg + 1.33237515);
  let d = quotient < 0 ? Number.POSITIVE_INFINITY : Math.trunc(quotient);
  if (d < sizes.min) d = sizes.min;
  if (d > sizes.max) d = sizes.max;
  return d;
}

/**
 * Checks and completes chunk sizes the way casync's ca_chunker_set_size does: a missing
 * avg comes from min and max, a missing min is avg/4, a missing max avg*4.
 */
export function resolveChunkSizes(sizes: Partial<ChunkSizes>): ChunkSizes {
  let { min = 0, avg = 0, max = 0 } = sizes;
  for (const [name, v] of [
    ['min', min],
    ['avg', avg],
    ['max', max],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new InvalidArgument(`chunk size ${name} must be a whole number`);
  }
  if (avg === 0) {
    if (min !== 0 && max !== 0) avg = Math.round(2 ** ((Math.log2(min) + Math.log2(max)) / 2));
    else if (min !== 0) avg = min * 4;
    else if (max !== 0) avg = Math.trunc(max / 4);
    else avg = CHUNK_SIZE_AVG_DEFAULT;
    avg = Math.min(Math.max(avg, CHUNK_SIZE_LIMIT_MIN), CHUNK_SIZE_LIMIT_MAX);
  } else if (avg < CHUNK_SIZE_LIMIT_MIN || avg > CHUNK_SIZE_LIMIT_MAX) {
    throw new InvalidArgument(
      `average chunk size ${avg} is outside ${CHUNK_SIZE_LIMIT_MIN}..${CHUNK_SIZE_LIMIT_MAX}`,
    );
  }
  if (min === 0) min = Math.max(Math.trunc(avg / 4), CHUNK_SIZE_LIMIT_MIN);
  else if (min > avg)
    throw new InvalidArgument(`minimum chunk size ${min} is larger than the average ${avg}`);
  if (max === 0) max = Math.min(avg * 4, CHUNK_SIZE_LIMIT_MAX);
  else if (max > CHUNK_SIZE_LIMIT_MAX) {
    throw new InvalidArgument(`maximum chunk size ${max} is larger than ${CHUNK_SIZE_LIMIT_MAX}`);
  } else if (max < avg)
    throw new InvalidArgument(`maximum chunk size ${max} is smaller than the average ${avg}`);
  return { min, avg, max };
}

/**
 * Parses desync's `-m min:avg:max` flag, in KiB (`16:64:256`). A single number is the
 * average, as in casync's `--chunk-size`.
 */
export function parseChunkSizeSpec(spec: string): ChunkSizes {
  const parts = spec.split(':');
  const kib = (s: string) => {
    if (!/^\d+$/.test(s))
      throw new InvalidArgument(`invalid chunk size '${spec}': use min:avg:max in KiB, e.g. 16:64:256`);
    return Number(s) * 1024;
  };
  if (parts.length !== 1 && parts.length !== 3) {
    throw new InvalidArgument(`invalid chunk size '${spec}': use min:avg:max in KiB, e.g. 16:64:256`);
  }
  const values = parts.map(kib);
  // resolveChunkSizes reads 0 as "use the default"; a user who typed 0 meant no such thing.
  if (values.includes(0)) throw new InvalidArgument(`invalid chunk size '${spec}': sizes must be > 0`);
  if (values.length === 1) return resolveChunkSizes({ avg: values[0] });
  const [min, avg, max] = values;
  return resolveChunkSizes({ min, avg, max });
}
