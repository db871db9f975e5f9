import { type ChunkId, chunkIdFromBytes } from '@desync/core';

/** One chunk of a blob index: where it starts and ends in the blob, and its id. */
export interface CaibxEntry {
  readonly id: ChunkId;
  readonly start: number;
  readonly end: number;
}

// casync caformat.h: CA_FORMAT_INDEX, CA_FORMAT_TABLE and CA_FORMAT_TABLE_TAIL_MARKER.
const CA_FORMAT_INDEX = 0x96824d9c7b129ff9n;
const CA_FORMAT_TABLE = 0xe75b9e112f17417dn;
const CA_FORMAT_TABLE_TAIL_MARKER = 0x4b4f050e5549ecd1n;

/**
 * Reads the chunk table of a caibx file, just enough to check a store against it (the
 * real reader lives in @desync/index-format). Layout per casync caformat.h: a 48-byte
 * CaFormatIndex header, a 16-byte table header, 40-byte items (end offset, 32-byte id) and
 * a 40-byte tail ending in the tail marker.
 */
export function readCaibx(bytes: Uint8Array): CaibxEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getBigUint64(8, true) !== CA_FORMAT_INDEX) throw new Error('not a caibx file');
  if (view.getBigUint64(56, true) !== CA_FORMAT_TABLE) throw new Error('no chunk table');
  if (view.getBigUint64(bytes.length - 8, true) !== CA_FORMAT_TABLE_TAIL_MARKER)
    throw new Error('no table tail');
  const count = (bytes.length - 48 - 16 - 40) / 40;
  const entries: CaibxEntry[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const at = 64 + i * 40;
    const end = Number(view.getBigUint64(at, true));
    entries.push({ id: chunkIdFromBytes(bytes.subarray(at + 8, at + 40)), start, end });
    start = end;
  }
  return entries;
}
