import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allocatePieces, writePieces } from '../src/batch-writes.js';

// A batch's pieces as a worker sends them: position in data, size, target offset.
const pieces = (...p: [number, number, number][]): Float64Array => new Float64Array(p.flat());

describe('allocatePieces', () => {
  const calls = (writes: Float64Array, answer = true): [number, number][] => {
    const seen: [number, number][] = [];
    allocatePieces(7, writes, (fd, offset, length) => {
      expect(fd).toBe(7);
      seen.push([offset, length]);
      return answer;
    });
    return seen;
  };

  it('allocates pieces that meet in the file as one range, whatever their order in the batch', () => {
    // Chunk A at 0 and again at 300 (a repeat), B at 100, C at 200: one range 0..400.
    expect(calls(pieces([0, 100, 0], [0, 100, 300], [100, 100, 100], [200, 100, 200]))).toEqual([[0, 400]]);
  });

  it('leaves the gaps between pieces unallocated: all-zero chunks stay holes', () => {
    expect(calls(pieces([0, 100, 0], [100, 50, 1000], [150, 10, 100]))).toEqual([
      [0, 110],
      [1000, 50],
    ]);
  });

  it('covers overlapping pieces once', () => {
    expect(calls(pieces([0, 100, 0], [0, 30, 50]))).toEqual([[0, 100]]);
  });

  it('asks nothing for an empty batch and stops at the first refusal', () => {
    expect(calls(pieces())).toEqual([]);
    const seen = calls(pieces([0, 10, 0], [0, 10, 100]), false);
    expect(seen).toEqual([[0, 10]]);
    expect(allocatePieces(7, pieces([0, 10, 0], [0, 10, 100]), () => false)).toBe(false);
  });
});

describe('writePieces', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('writes every piece at its place, repeats included', () => {
    const data = randomBytes(300, 3);
    const path = join(dir, 'out');
    const fd = openSync(path, 'w+');
    try {
      writePieces(fd, data, pieces([0, 100, 200], [100, 100, 300], [200, 100, 0], [0, 100, 400]));
    } finally {
      closeSync(fd);
    }
    const out = readFileSync(path);
    expect(out.subarray(0, 100)).toEqual(Buffer.from(data.subarray(200, 300)));
    expect(out.subarray(200, 400)).toEqual(Buffer.from(data.subarray(0, 200)));
    expect(out.subarray(400, 500)).toEqual(Buffer.from(data.subarray(0, 100)));
    expect(out.subarray(100, 200)).toEqual(Buffer.alloc(100));
  });
});
