import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pwriteAll } from '../src/pwrite-all.js';

describe('pwriteAll', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('writes any range of a buffer at any position, however long (several writes past 64 KiB)', () => {
    const source = randomBytes(1024 * 1024 + 1024, 9);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1024 }),
        fc.integer({ min: 0, max: 1024 * 1024 }),
        fc.integer({ min: 0, max: 300_000 }),
        (start, size, position) => {
          const path = join(dir, 'out');
          const fd = openSync(path, 'w');
          try {
            pwriteAll(fd, source, start, size, position);
          } finally {
            closeSync(fd);
          }
          const written = readFileSync(path);
          expect(written.length).toBe(size === 0 ? 0 : position + size);
          if (size > 0) {
            expect(written.subarray(0, position).every((b) => b === 0)).toBe(true);
            expect(Buffer.compare(written.subarray(position), source.subarray(start, start + size))).toBe(0);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
