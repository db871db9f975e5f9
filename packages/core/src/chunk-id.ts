import { createHash } from 'node:crypto';
import { InvalidArgument } from './errors.js';

/** A chunk id: SHA512/256 of the chunk's plain bytes, as 64 lowercase hex characters. */
export type ChunkId = string & { readonly __brand: 'ChunkId' };

const HEX64 = /^[0-9a-f]{64}$/;

/** True when `s` is a well-formed chunk id (64 lowercase hex). */
export function isChunkId(s: string): s is ChunkId {
  return s.length === 64 && HEX64.test(s);
}

/** Parses a chunk id given by a user or a peer; throws InvalidArgument otherwise. */
export function parseChunkId(s: string): ChunkId {
  const lower = s.toLowerCase();
  if (!isChunkId(lower)) throw new InvalidArgument(`invalid chunk id '${s}': expected 64 hex characters`);
  return lower;
}

/** The id as it appears in index files: 32 raw bytes. */
export function chunkIdFromBytes(bytes: Uint8Array): ChunkId {
  if (bytes.length !== 32) throw new InvalidArgument(`a chunk id has 32 bytes, got ${bytes.length}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, 32).toString('hex') as ChunkId;
}

/** The 32 raw bytes of an id. */
export function chunkIdToBytes(id: ChunkId): Buffer {
  return Buffer.from(id, 'hex');
}

/** SHA512/256 digest of plain chunk bytes: the id casync gives the chunk. */
export function digestChunk(data: Uint8Array): ChunkId {
  return createHash('sha512-256').update(data).digest('hex') as ChunkId;
}
