import { readFile } from 'node:fs/promises';
import { type ChunkId, chunkIdFromBytes } from '@desync/core';

/** One chunk of a blob index: where it starts in the blob, its length and its id. */
export interface CaibxChunk {
  readonly start: number;
  readonly size: number;
  readonly id: ChunkId;
}

/** What the chunker tests need from a .caibx: the header's sizes and the chunk table. */
export interface Caibx {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  readonly chunks: CaibxChunk[];
}

// casync caformat.h: CA_FORMAT_INDEX and CA_FORMAT_TABLE_TAIL_MARKER.
const CA_FORMAT_INDEX = 0x96824d9c7b129ff9n;
const CA_FORMAT_TABLE_TAIL_MARKER = 0x4b4f050e5549ecd1n;

/**
 * Reads a casync blob index, just enough to compare chunk boundaries and ids (the real
 * reader is @desync/index-format, which this package does not depend on). Layout per
 * casync caformat.h: a 48-byte header (size, type, flags, min, avg, max), a 16-byte table
 * header, 40-byte items (end offset, 32-byte id) and a 40-byte tail ending in a marker.
 */
export async function readCaibx(path: string): Promise<Caibx> {
  const b = await readFile(path);
  if (b.length < 104 || b.readBigUInt64LE(8) !== CA_FORMAT_INDEX)
    throw new Error(`${path}: not a casync index`);
  if (b.readBigUInt64LE(b.length - 8) !== CA_FORMAT_TABLE_TAIL_MARKER)
    throw new Error(`${path}: no table tail`);
  const count = (b.length - 104) / 40;
  const chunks: CaibxChunk[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const at = 64 + i * 40;
    const end = Number(b.readBigUInt64LE(at));
    chunks.push({ start, size: end - start, id: chunkIdFromBytes(b.subarray(at + 8, at + 40)) });
    start = end;
  }
  return {
    min: Number(b.readBigUInt64LE(24)),
    avg: Number(b.readBigUInt64LE(32)),
    max: Number(b.readBigUInt64LE(40)),
    chunks,
  };
}
