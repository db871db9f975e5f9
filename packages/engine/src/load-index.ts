import { existsSync } from 'node:fs';
import { InvalidArgument, type StoreOpenOptions, type StoreScheme, storeSchemeFor } from '@desync/core';
import { type ChunkIndex, parseIndex, readIndex } from '@desync/index-format';

// Indexes far beyond any real one are refused before they fill memory (see store-http).
const MAX_INDEX_BYTES = 1024 * 1024 * 1024;

/** Reads all of standard input, refusing more than `max` bytes. */
async function readStdin(max: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of process.stdin as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > max) throw new InvalidArgument(`the index on standard input is larger than ${max} bytes`);
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/** A store adapter that reads single files. */
type FileReadingScheme = StoreScheme & Required<Pick<StoreScheme, 'readFile'>>;

/**
 * The adapter that reads the index at `location` from elsewhere: one other than the local
 * directory adapter that can read single files, unless a local file has that very name
 * (casync's `host:/path` form is also a valid local file name).
 */
export function remoteIndexScheme(location: string): FileReadingScheme | undefined {
  const scheme = storeSchemeFor(location);
  if (!scheme?.readFile || scheme.name === 'local' || existsSync(location)) return undefined;
  return scheme as FileReadingScheme;
}

/**
 * Reads an index from a path, from standard input (`-`), or from a URL of any registered
 * store adapter that can read single files (`http(s)://…/x.caibx`, `s3+http(s)://…`,
 * `ssh://…`, `host:/path`). `open` carries the adapter settings (TLS, credentials, timeouts)
 * as for stores.
 */
export async function loadIndex(location: string, open: StoreOpenOptions = {}): Promise<ChunkIndex> {
  if (location === '-') return parseIndex(await readStdin(MAX_INDEX_BYTES), 'standard input');
  const scheme = remoteIndexScheme(location);
  if (scheme) return parseIndex(await scheme.readFile(location, open), location);
  return readIndex(location);
}
