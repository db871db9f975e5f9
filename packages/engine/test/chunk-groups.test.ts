import { parseChunkId } from '@desync/core';
import { BLOB_INDEX_FLAGS, ChunkIndex } from '@desync/index-format';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChunkGroups, groupChunks } from '../src/chunk-groups.js';

const SIZES = { min: 1, avg: 4, max: 16 };

/** An index of chunks with the given ids (hex) and sizes, one after the other. */
function indexOf(chunks: { id: string; size: number }[]): ChunkIndex {
  let start = 0;
  return ChunkIndex.fromChunks(
    chunks.map(({ id, size }) => {
      const c = { start, size, id: parseChunkId(id) };
      start += size;
      return c;
    }),
    BLOB_INDEX_FLAGS,
    SIZES,
  );
}

/** The expected grouping, the slow obvious way. */
function naiveGroups(chunks: { id: string; size: number }[]) {
  const groups = new Map<string, { first: number; size: number; offsets: number[] }>();
  let start = 0;
  chunks.forEach(({ id, size }, i) => {
    const g = groups.get(id);
    if (g) g.offsets.push(start);
    else groups.set(id, { first: i, size, offsets: [start] });
    start += size;
  });
  return [...groups.values()];
}

/** Every group, made one by one as extract makes them. */
const all = (groups: ChunkGroups) => Array.from({ length: groups.length }, (_, k) => groups.group(k));

const summary = (index: ChunkIndex) =>
  all(groupChunks(index)).map((g) => ({ first: g.first, size: g.size, offsets: g.offsets }));

describe('groupChunks', () => {
  it('is empty for an empty index', () => {
    expect(groupChunks(indexOf([])).length).toBe(0);
  });

  it('groups repeats in order of first appearance, with every offset', () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    const c = 'c'.repeat(64);
    const chunks = [a, b, a, c, b, a].map((id) => ({ id, size: 4 }));
    const groups = groupChunks(indexOf(chunks));
    expect(all(groups).map((g) => [g.id, g.offsets])).toEqual([
      [a, [0, 8, 20]],
      [b, [4, 16]],
      [c, [12]],
    ]);
    expect([0, 1, 2].map((k) => [groups.id(k), groups.size(k), groups.count(k)])).toEqual([
      [a, 4, 3],
      [b, 4, 2],
      [c, 4, 1],
    ]);
    expect(groups.hasId(1, Buffer.from(b, 'hex'))).toBe(true);
    expect(groups.hasId(1, Buffer.from(a, 'hex'))).toBe(false);
  });

  it('reads ids at any alignment of the index bytes', () => {
    const a = '01'.repeat(32);
    const b = '02'.repeat(32);
    const chunks = [a, b, b, a].map((id) => ({ id, size: 2 }));
    const aligned = indexOf(chunks);
    const raw = new Uint8Array(1 + 32 * chunks.length);
    raw.set(aligned.allIdBytes(), 1);
    const ends = Float64Array.from(chunks, (_, i) => aligned.end(i));
    const unaligned = new ChunkIndex({
      featureFlags: BLOB_INDEX_FLAGS,
      chunkSizes: SIZES,
      ends,
      ids: raw.subarray(1),
    });
    expect(summary(unaligned)).toEqual(naiveGroups(chunks));
  });

  it('tells apart ids that differ only in one byte, wherever it is', () => {
    // Ids equal but for one byte: the hash sees every word, and the table compares whole ids.
    const base = '5a'.repeat(32);
    const ids = Array.from({ length: 64 }, (_, k) => {
      const at = (k % 32) * 2;
      return base.slice(0, at) + (k < 32 ? '00' : 'ff') + base.slice(at + 2);
    });
    const chunks = [...ids, ...ids, base].map((id, i) => ({ id, size: 1 + (i % 3) }));
    expect(summary(indexOf(chunks))).toEqual(naiveGroups(chunks));
  });

  it('matches the obvious grouping for any index', () => {
    const id = fc
      .integer({ min: 0, max: 40 })
      .map((k) => (k % 5).toString(16).repeat(60) + k.toString(16).padStart(4, '0'));
    fc.assert(
      fc.property(
        fc.array(fc.record({ id, size: fc.integer({ min: 1, max: 16 }) }), { maxLength: 300 }),
        (chunks) => {
          expect(summary(indexOf(chunks))).toEqual(naiveGroups(chunks));
        },
      ),
    );
  });
});
