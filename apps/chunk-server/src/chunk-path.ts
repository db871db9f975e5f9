import type { ChunkId } from '@desync/core';

// casync's store layout (casync castore.c): <first 4 hex of the id>/<id>.cacnk, lowercase.
// Nothing is decoded before matching, so `%2e%2e`, `..` or any other name is simply no match.
const CHUNK_PATH = /^\/([0-9a-f]{4})\/([0-9a-f]{64})\.cacnk$/;

/**
 * The chunk id a request path names, or undefined when the path is anything but
 * `/<4 hex>/<64 hex>.cacnk` with the prefix equal to the id's first 4 digits.
 */
export function parseChunkPath(pathname: string): ChunkId | undefined {
  const match = CHUNK_PATH.exec(pathname);
  if (!match?.[2].startsWith(match[1])) return undefined;
  return match[2] as ChunkId;
}
