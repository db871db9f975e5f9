import { readFileSync } from 'node:fs';
import { it, expect } from 'vitest';
import { referenceChunkSizes } from './casync-reference.js';
import { chunkSizesOf, DEFAULT_CHUNK_SIZES } from '../src/index.js';
it('x', () => {
  const data = readFileSync(new URL('./fixtures/chunker.input', import.meta.url));
  const idx = readFileSync(new URL('./fixtures/chunker.index', import.meta.url));
  const n = (idx.length - 104) / 40; const ends: number[] = [];
  for (let i = 0; i < n; i++) ends.push(Number(idx.readBigUInt64LE(64 + i * 40)));
  const t = Date.now();
  const r = referenceChunkSizes(data, DEFAULT_CHUNK_SIZES);
  console.log('oracle ms', Date.now() - t);
  let s = 0; const e2 = r.map((x) => (s += x));
  expect(e2).toEqual(ends);
  expect(chunkSizesOf(data, DEFAULT_CHUNK_SIZES)).toEqual(r);
});
