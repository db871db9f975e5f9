import { InvalidArgument } from '@desync/core';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_SIZE_AVG_DEFAULT,
  CHUNK_SIZE_LIMIT_MAX,
  CHUNK_SIZE_LIMIT_MIN,
  DEFAULT_CHUNK_SIZES,
  discriminatorFor,
  parseChunkSizeSpec,
  resolveChunkSizes,
  WINDOW_SIZE,
} from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function expectInvalid(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidArgument);
  expect((thrown as InvalidArgument).code).toBe('INVALID_ARGUMENT');
}

describe('chunk size constants', () => {
  it('are casync’s: a 48-byte window, 64 KiB average, chunks of 1 byte to 128 MiB', () => {
    expect(WINDOW_SIZE).toBe(48);
    expect(CHUNK_SIZE_AVG_DEFAULT).toBe(64 * KiB);
    expect(CHUNK_SIZE_LIMIT_MIN).toBe(1);
    expect(CHUNK_SIZE_LIMIT_MAX).toBe(128 * MiB);
    expect(DEFAULT_CHUNK_SIZES).toEqual({ min: 16 * KiB, avg: 64 * KiB, max: 256 * KiB });
    expect(Object.isFrozen(DEFAULT_CHUNK_SIZES)).toBe(true);
  });
});

describe('resolveChunkSizes', () => {
  it('gives casync’s defaults when nothing is set', () => {
    expect(resolveChunkSizes({})).toEqual(DEFAULT_CHUNK_SIZES);
  });

  it('derives min as avg/4 and max as avg*4 from an average alone', () => {
    expect(resolveChunkSizes({ avg: 1000 })).toEqual({ min: 250, avg: 1000, max: 4000 });
  });

  it('never derives a min below 1 or a max above 128 MiB', () => {
    expect(resolveChunkSizes({ avg: 2 })).toEqual({ min: 1, avg: 2, max: 8 });
    expect(resolveChunkSizes({ avg: 64 * MiB })).toEqual({ min: 16 * MiB, avg: 64 * MiB, max: 128 * MiB });
  });

  it('derives the average as the geometric mean of min and max, rounded', () => {
    expect(resolveChunkSizes({ min: 16 * KiB, max: 256 * KiB })).toEqual(DEFAULT_CHUNK_SIZES);
    // sqrt(1000 * 3000) = 1732.05
    expect(resolveChunkSizes({ min: 1000, max: 3000 }).avg).toBe(1732);
  });

  it('derives the average as 4·min or max/4 when only one of them is set', () => {
    expect(resolveChunkSizes({ min: 100 })).toEqual({ min: 100, avg: 400, max: 1600 });
    expect(resolveChunkSizes({ max: 4000 })).toEqual({ min: 250, avg: 1000, max: 4000 });
  });

  it('keeps sizes that are all given and valid, fixed-size ones included', () => {
    expect(resolveChunkSizes({ min: 1, avg: 2, max: 4 })).toEqual({ min: 1, avg: 2, max: 4 });
    expect(resolveChunkSizes({ min: 64, avg: 64, max: 64 })).toEqual({ min: 64, avg: 64, max: 64 });
    expect(resolveChunkSizes({ min: 100, avg: 100, max: 400 })).toEqual({ min: 100, avg: 100, max: 400 });
    expect(resolveChunkSizes({ min: 100, avg: 400, max: 400 })).toEqual({ min: 100, avg: 400, max: 400 });
    expect(resolveChunkSizes({ min: 1, avg: 128 * MiB, max: 128 * MiB }).max).toBe(128 * MiB);
  });

  it('rejects min > avg with InvalidArgument', () => {
    expectInvalid(() => resolveChunkSizes({ min: 2000, avg: 1000, max: 4000 }));
    expectInvalid(() => resolveChunkSizes({ min: 5000, avg: 1000 }));
  });

  it('rejects max < avg with InvalidArgument', () => {
    expectInvalid(() => resolveChunkSizes({ min: 100, avg: 1000, max: 999 }));
    expectInvalid(() => resolveChunkSizes({ avg: 1000, max: 10 }));
  });

  it('rejects max or avg above 128 MiB with InvalidArgument', () => {
    expectInvalid(() => resolveChunkSizes({ min: 1, avg: 1000, max: 128 * MiB + 1 }));
    expectInvalid(() => resolveChunkSizes({ avg: 128 * MiB + 1 }));
  });

  it('rejects sizes that are not whole non-negative numbers with InvalidArgument', () => {
    expectInvalid(() => resolveChunkSizes({ avg: 1.5 }));
    expectInvalid(() => resolveChunkSizes({ min: -1 }));
    expectInvalid(() => resolveChunkSizes({ max: Number.NaN }));
    expectInvalid(() => resolveChunkSizes({ avg: Number.POSITIVE_INFINITY }));
    expectInvalid(() => resolveChunkSizes({ avg: '64' as unknown as number }));
  });
});

describe('parseChunkSizeSpec', () => {
  it('reads min:avg:max in KiB', () => {
    expect(parseChunkSizeSpec('16:64:256')).toEqual(DEFAULT_CHUNK_SIZES);
    expect(parseChunkSizeSpec('1:1:1')).toEqual({ min: KiB, avg: KiB, max: KiB });
  });

  it('reads a single number as the average, as casync’s --chunk-size does', () => {
    expect(parseChunkSizeSpec('64')).toEqual(DEFAULT_CHUNK_SIZES);
    expect(parseChunkSizeSpec('8')).toEqual({ min: 2 * KiB, avg: 8 * KiB, max: 32 * KiB });
  });

  it('rejects non-numbers and malformed specs with InvalidArgument', () => {
    for (const spec of [
      '',
      'abc',
      '16:64',
      '16:64:256:1024',
      '16::256',
      '16:64:x',
      '-16:64:256',
      '1.5:2:4',
      ' 16:64:256',
    ]) {
      expectInvalid(() => parseChunkSizeSpec(spec));
    }
  });

  it('rejects a zero size in either form with InvalidArgument', () => {
    expectInvalid(() => parseChunkSizeSpec('0'));
    expectInvalid(() => parseChunkSizeSpec('0:64:256'));
    expectInvalid(() => parseChunkSizeSpec('16:64:0'));
  });

  it('rejects min > avg, max < avg and max > 128 MiB with InvalidArgument', () => {
    expectInvalid(() => parseChunkSizeSpec('128:64:256'));
    expectInvalid(() => parseChunkSizeSpec('16:64:32'));
    expectInvalid(() => parseChunkSizeSpec('16:64:131073'));
    expectInvalid(() => parseChunkSizeSpec('131073'));
  });
});

describe('discriminatorFor', () => {
  it('is casync’s CA_CHUNKER_DISCRIMINATOR_FROM_AVG, truncated', () => {
    // avg / (-1.42888852e-7 * avg + 1.33237515), by hand: 65536 / 1.32301091 = 49535.4
    expect(discriminatorFor(DEFAULT_CHUNK_SIZES)).toBe(49535);
    expect(discriminatorFor({ min: 250, avg: 1000, max: 4000 })).toBe(750);
    expect(discriminatorFor({ min: 2 * KiB, avg: 8 * KiB, max: 32 * KiB })).toBe(6153);
  });

  it('is clamped to min and max, as ca_chunker_set_size does', () => {
    // 64 / 1.3323 = 48.03, below min 60; 1 / 1.3323 truncates to 0, below min 1.
    expect(discriminatorFor({ min: 60, avg: 64, max: 256 })).toBe(60);
    expect(discriminatorFor({ min: 1, avg: 64, max: 64 })).toBe(48);
    expect(discriminatorFor({ min: 1, avg: 1, max: 1 })).toBe(1);
  });

  it('is max once the average passes 9.32 MB, where casync’s divisor turns negative', () => {
    // casync casts the negative quotient to size_t, which wraps to a huge value and is
    // clamped to max (checked against `casync make --chunk-size=1048576:16777216:33554432`).
    expect(discriminatorFor({ min: MiB, avg: 16 * MiB, max: 32 * MiB })).toBe(32 * MiB);
    expect(discriminatorFor({ min: 1, avg: 9_400_000, max: 9_400_000 })).toBe(9_400_000);
    expect(discriminatorFor({ min: 1, avg: 128 * MiB, max: 128 * MiB })).toBe(128 * MiB);
    // Just below the sign change the quotient is huge and positive: clamped to max as well.
    expect(discriminatorFor({ min: 1, avg: 9_324_000, max: 10_000_000 })).toBe(10_000_000);
  });
});
