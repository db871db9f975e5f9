import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { type CatarListLine, catarToTar, extractCatar, listCatar } from '@desync/catar';
import {
  describeSystemError,
  FileError,
  InvalidArgument,
  type Store,
  type StoreOpenOptions,
  writeOutput,
} from '@desync/core';
import { CA_FORMAT_INDEX, readIndex } from '@desync/index-format';
import { loadIndex, remoteIndexScheme } from './load-index.js';
import { readBlob } from './read-blob.js';

/** Where an archive stream comes from: a .catar file, standard input, or a .caidx and stores. */
export interface ArchiveSourceOptions {
  /**
   * A .catar path, `-` for standard input, or a .caidx path or URL (`ssh://…`, `host:/…`,
   * `http(s)://…`, `s3+…`; then `store` is required).
   */
  path: string;
  /** Adapter settings for reading a .caidx from a URL (TLS, credentials, timeouts). */
  open?: StoreOpenOptions;
  /** Stores holding the chunks of a .caidx (a StoreRouter or CacheStore). */
  store?: Store;
  /** Chunks fetched ahead when reading a .caidx; default 10. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** True when `path` starts with a casync index header (a .caibx or .caidx). */
export async function isIndexFile(path: string): Promise<boolean> {
  if (path === '-') return false;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    return bytesRead === 16 && head.readBigUInt64LE(8) === CA_FORMAT_INDEX;
  } catch (err) {
    throw new FileError(path, describeSystemError(err), { cause: err });
  } finally {
    await handle?.close();
  }
}

/** The bytes of an archive stream, whichever form it is stored in. */
export async function openArchiveStream(options: ArchiveSourceOptions): Promise<AsyncIterable<Uint8Array>> {
  if (options.path === '-') return process.stdin;
  const remote = remoteIndexScheme(options.path) !== undefined;
  if (remote || (await isIndexFile(options.path))) {
    if (!options.store)
      throw new InvalidArgument(`${options.path} is an index: give the stores of its chunks with -s`);
    const index = remote ? await loadIndex(options.path, options.open) : await readIndex(options.path);
    return readBlob({
      index,
      store: options.store,
      concurrency: options.concurrency,
      signal: options.signal,
    });
  }
  const stream = createReadStream(options.path, { highWaterMark: 256 * 1024 });
  return (async function* () {
    try {
      yield* stream;
    } catch (err) {
      throw new FileError(options.path, describeSystemError(err), { cause: err });
    }
  })();
}

/** Options of extractArchive. */
export interface ExtractArchiveOptions extends ArchiveSourceOptions {
  /** The directory to create the tree in; must be empty unless `overwrite`. */
  dir: string;
  overwrite?: boolean;
  /** Restore owners (default: when running as root). */
  sameOwner?: boolean;
  /** Called once per kind of metadata the archive holds and extraction does not restore. */
  onSkip?: (kind: string) => void;
  onWarning?: (message: string) => void;
}

/** Restores the tree of a catar archive (file, stdin, or .caidx plus stores) into a directory. */
export async function extractArchive(options: ExtractArchiveOptions): Promise<void> {
  const source = await openArchiveStream(options);
  await extractCatar(source, options.dir, {
    overwrite: options.overwrite,
    sameOwner: options.sameOwner,
    name: options.path === '-' ? 'standard input' : options.path,
    signal: options.signal,
    onSkip: options.onSkip,
    onWarning: options.onWarning,
  });
}

/** The entries of an archive (file, stdin, or .caidx plus stores), like `casync list`. */
export async function* listArchive(options: ArchiveSourceOptions): AsyncGenerator<CatarListLine> {
  const source = await openArchiveStream(options);
  yield* listCatar(source, {
    name: options.path === '-' ? 'standard input' : options.path,
    signal: options.signal,
  });
}

/**
 * @deprecated `writeOutput` of `@desync/core`, which it is: a byte stream to a file
 * atomically, to a device or FIFO directly, to standard output for `-`.
 */
export const writeStreamTo = writeOutput;

/** Options of archiveToTar. */
export interface ArchiveToTarOptions extends ArchiveSourceOptions {
  /** The tar to write (atomically), or `-` for standard output. */
  output: string;
  /** Called once per kind of catar metadata a tar does not get (user names, ACLs, ...). */
  onSkip?: (kind: string) => void;
  /** Called once per kind of node or data a tar cannot hold (sockets, binary xattrs). */
  onWarning?: (message: string) => void;
}

/** Converts an archive (file, stdin, or .caidx plus stores) into a POSIX (pax) tar stream. */
export async function archiveToTar(options: ArchiveToTarOptions): Promise<void> {
  const source = await openArchiveStream(options);
  await writeOutput(
    options.output,
    catarToTar(source, {
      name: options.path === '-' ? 'standard input' : options.path,
      signal: options.signal,
      onSkip: options.onSkip,
      onWarning: options.onWarning,
    }),
  );
}
