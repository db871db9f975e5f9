import { readFile } from 'node:fs/promises';
import { describeSystemError, FileError, IndexFormatError } from '@desync/core';
import { ChunkIndex } from './chunk-index.js';
import {
  CA_FORMAT_INDEX,
  CA_FORMAT_TABLE,
  CA_FORMAT_TABLE_TAIL_MARKER,
  INDEX_HEADER_SIZE,
  KNOWN_FLAGS,
  TABLE_HEADER_SIZE,
  TABLE_ITEM_SIZE,
  TABLE_TAIL_SIZE,
} from './format-constants.js';

const UINT64_MAX = 0xffffffffffffffffn;
/** casync cachunk.h CA_CHUNK_SIZE_LIMIT_MAX. */
const CHUNK_SIZE_LIMIT_MAX = 128 * 1024 * 1024;
/** casync's chunker fills its 48-byte window before any cut, whatever max says. */
const WINDOW_SIZE = 48;

/**
 * Parses the bytes of a .caibx/.caidx file (casync caindex.c layout). `name` names the
 * file in errors. Everything is checked: an index is untrusted input.
 */
export function parseIndex(bytes: Uint8Array, name: string): ChunkIndex {
  const fail = (reason: string): never => {
    throw new IndexFormatError(name, reason);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number) => view.getBigUint64(at, true);
  const num = (at: number, what: string) => {
    const v = u64(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} at byte ${at} is too large (${v})`);
    return Number(v);
  };
  if (bytes.length < INDEX_HEADER_SIZE)
    fail(`truncated: ${bytes.length} bytes, a header needs ${INDEX_HEADER_SIZE}`);
  if (u64(8) !== CA_FORMAT_INDEX) fail('wrong magic: the header type is not CA_FORMAT_INDEX');
  if (u64(0) !== BigInt(INDEX_HEADER_SIZE))
    fail(`wrong header size ${u64(0)}, expected ${INDEX_HEADER_SIZE}`);
  const featureFlags = u64(16);
  if ((featureFlags & ~KNOWN_FLAGS) !== 0n)
    fail(`unknown feature flags 0x${(featureFlags & ~KNOWN_FLAGS).toString(16)}`);
  const min = num(24, 'minimum chunk size');
  const avg = num(32, 'average chunk size');
  const max = num(40, 'maximum chunk size');
  if (min < 1 || min > avg || avg > max || max > CHUNK_SIZE_LIMIT_MAX) {
    fail(`invalid chunk sizes min ${min}, avg ${avg}, max ${max}`);
  }
  const minLength = INDEX_HEADER_SIZE + TABLE_HEADER_SIZE + TABLE_TAIL_SIZE;
  if (bytes.length < minLength) fail(`truncated: ${bytes.length} bytes, at least ${minLength} needed`);
  if (u64(48) !== UINT64_MAX) fail('the chunk table header has a size other than UINT64_MAX');
  if (u64(56) !== CA_FORMAT_TABLE) fail('wrong chunk table type');
  const itemBytes = bytes.length - minLength;
  if (itemBytes % TABLE_ITEM_SIZE !== 0)
    fail(`truncated: the chunk table ends in a partial entry (${bytes.length} bytes)`);
  const count = itemBytes / TABLE_ITEM_SIZE;
  const tail = bytes.length - TABLE_TAIL_SIZE;
  if (u64(tail + 32) !== CA_FORMAT_TABLE_TAIL_MARKER)
    fail('bad table tail: marker missing (truncated file?)');
  if (u64(tail) !== 0n || u64(tail + 8) !== 0n) fail('bad table tail: non-zero fill');
  if (u64(tail + 16) !== BigInt(INDEX_HEADER_SIZE)) fail(`bad table tail: table offset ${u64(tail + 16)}`);
  const tableSize = TABLE_HEADER_SIZE + count * TABLE_ITEM_SIZE + TABLE_TAIL_SIZE;
  if (u64(tail + 24) !== BigInt(tableSize))
    fail(`bad table tail: table size ${u64(tail + 24)}, expected ${tableSize}`);
  const ends = new Float64Array(count);
  const ids = new Uint8Array(count * 32);
  const largest = Math.max(max, WINDOW_SIZE);
  let previous = 0;
  for (let i = 0; i < count; i++) {
    const at = INDEX_HEADER_SIZE + TABLE_HEADER_SIZE + i * TABLE_ITEM_SIZE;
    // Two 32-bit reads instead of a BigInt per chunk: tables hold hundreds of thousands.
    const high = view.getUint32(at + 4, true);
    const end =
      high < 0x200000 ? high * 0x100000000 + view.getUint32(at, true) : num(at, `end offset of chunk ${i}`);
    if (end <= previous) fail(`end offsets do not increase at chunk ${i} (${end} after ${previous})`);
    if (end - previous > largest)
      fail(`chunk ${i} is ${end - previous} bytes, larger than the maximum ${max}`);
    ends[i] = end;
    ids.set(bytes.subarray(at + 8, at + 40), i * 32);
    previous = end;
  }
  return new ChunkIndex({ featureFlags, chunkSizes: { min, avg, max }, ends, ids });
}

/** Reads and parses an index file. */
export async function readIndex(path: string): Promise<ChunkIndex> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new FileError(path, `cannot read index: ${describeSystemError(err)}`, { cause: err });
  }
  return parseIndex(bytes, path);
}
