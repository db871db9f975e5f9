import { CATAR_UNIX_FLAGS, encodeCatar, writeCatar } from '@desync/catar';
import { type ChunkSizes, chunkStream, DEFAULT_CHUNK_SIZES } from '@desync/chunker';
import { Chunk, type ChunkId, digestChunk, FileError, type WriteStore, writeOutput } from '@desync/core';
import { IndexWriter } from '@desync/index-format';
import { forEachBounded } from './bounded.js';
import { NO_PROGRESS, type Progress } from './progress.js';
import { transferable, WorkerPool } from './worker-pool.js';

/** Options of makeArchive. */
export interface MakeArchiveOptions {
  /** The directory tree to archive; with `stream`, only the source's name in messages. */
  dir: string;
  /** The archive bytes to write instead of encoding `dir` (e.g. tarToCatar's output). */
  stream?: AsyncIterable<Uint8Array>;
  /** The .catar to write (atomically), or `-` for standard output. */
  output: string;
  /** casync feature flags; default CATAR_UNIX_FLAGS (see @desync/catar). */
  featureFlags?: bigint;
  signal?: AbortSignal;
  /** Called once per kind of data left out because this machine cannot read it (xattrs without the addon). */
  onWarning?: (message: string) => void;
}

/** Writes the catar archive of a tree, byte-identical to `casync make` with the same flags. */
export async function makeArchive(options: MakeArchiveOptions): Promise<void> {
  const featureFlags = options.featureFlags ?? CATAR_UNIX_FLAGS;
  if (options.stream) {
    await writeOutput(options.output, options.stream);
    return;
  }
  if (options.output !== '-') {
    await writeCatar(options.dir, options.output, {
      featureFlags,
      signal: options.signal,
      onWarning: options.onWarning,
    });
    return;
  }
  const encoded = encodeCatar(options.dir, {
    featureFlags,
    signal: options.signal,
    onWarning: options.onWarning,
  });
  for await (const bytes of encoded) {
    if (!process.stdout.write(bytes)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

/** Options of makeArchiveIndex. */
export interface MakeArchiveIndexOptions {
  /** The directory tree to archive; with `stream`, only the source's name in messages. */
  dir: string;
  /**
   * The archive bytes to chunk instead of encoding `dir` (e.g. tarToCatar's output, made
   * with the same `featureFlags`, which the index header records).
   */
  stream?: AsyncIterable<Uint8Array>;
  /** The .caidx to write; it appears only when every chunk it names is stored. */
  indexPath: string;
  store: WriteStore;
  /** casync feature flags of the archive (and the index header); default CATAR_UNIX_FLAGS. */
  featureFlags?: bigint;
  /** Chunk sizes; default casync's 16/64/256 KiB. */
  chunkSizes?: ChunkSizes;
  /** Chunks compressed and stored at once; default 10. */
  concurrency?: number;
  progress?: Progress;
  signal?: AbortSignal;
  /** Called once per kind of data left out because this machine cannot read it. */
  onWarning?: (message: string) => void;
}

/** What makeArchiveIndex did. */
export interface MakeArchiveIndexResult {
  /** Bytes of the archive stream. */
  size: number;
  chunks: number;
  storedChunks: number;
}

/**
 * Archives a tree as casync does and chunks the archive stream into a store, writing the
 * .caidx: the same index as `casync make --store=STORE x.caidx DIR` with the same flags.
 * The stream is chunked as it is produced (bounded memory); zstd runs in worker threads.
 */
export async function makeArchiveIndex(options: MakeArchiveIndexOptions): Promise<MakeArchiveIndexResult> {
  const featureFlags = options.featureFlags ?? CATAR_UNIX_FLAGS;
  const sizes = options.chunkSizes ?? DEFAULT_CHUNK_SIZES;
  const progress = options.progress ?? NO_PROGRESS;
  const writer = await IndexWriter.create(options.indexPath, { featureFlags, chunkSizes: sizes });
  const pool = new WorkerPool();
  const result: MakeArchiveIndexResult = { size: 0, chunks: 0, storedChunks: 0 };
  const recent = new Set<ChunkId>();
  progress.start('tar', 0);
  try {
    const stream =
      options.stream ??
      encodeCatar(options.dir, {
        featureFlags,
        signal: options.signal,
        onWarning: options.onWarning,
      });
    const chunks = (async function* () {
      for await (const c of chunkStream(stream, sizes)) {
        const id = digestChunk(c.data);
        await writer.add(c.start + c.data.length, id);
        result.chunks++;
        result.size = c.start + c.data.length;
        progress.update(result.size);
        if (recent.has(id)) continue;
        if (recent.size > 65536) recent.clear();
        recent.add(id);
        yield { id, data: c.data };
      }
    })();
    await forEachBounded(
      chunks,
      options.concurrency ?? 10,
      async ({ id, data }) => {
        if (await options.store.hasChunk(id)) return;
        const r = await pool.run({ type: 'compress-chunk', data }, transferable(data));
        if (!r.ok) throw new FileError(options.dir, r.message);
        await options.store.storeChunk(Chunk.fromCompressed(id, r.frame!, { source: options.dir }));
        result.storedChunks++;
      },
      options.signal,
    );
    await writer.finish();
    return result;
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await pool.close();
    progress.stop();
  }
}
