import { closeSync, constants, fsyncSync, openSync, readSync } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import {
  ChunkInvalid,
  ChunkMissing,
  describeSystemError,
  FileError,
  type FileStore,
  isFileStore,
  outputTarget,
  type Store,
  StoreError,
  StoreRouter,
  tempPathFor,
  writesInPlace,
  zeroChunkDigest,
} from '@desync/core';
import type { ChunkIndex } from '@desync/index-format';
import { loadAllocateRange } from './allocate-range.js';
import { allocatePieces, writePieces } from './batch-writes.js';
import { forEachBounded } from './bounded.js';
import { type ChunkGroups, type Group, groupChunks } from './chunk-groups.js';
import { NO_PROGRESS, type Progress } from './progress.js';
import { ChunkReadAhead } from './read-ahead.js';
import { openSeeds, type SeedChunks, type SeedSpec } from './seeds.js';
import { transferable, WorkerPool } from './worker-pool.js';
import type { ExtractItem, ExtractOutcome } from './worker-protocol.js';

/** Options of extractBlob. */
export interface ExtractBlobOptions {
  index: ChunkIndex;
  /** Where chunks come from (a StoreRouter, possibly behind a CacheStore). */
  store: Store;
  /**
   * The file to write. It appears under this name only when complete; a block or character
   * device is written in place (only what it does not hold already).
   */
  output: string;
  /** Chunks fetched at once; default 10 (desync's -n). */
  concurrency?: number;
  /** Worker threads for decompress + verify + write; default the number of CPUs. */
  workers?: number;
  /** Files whose chunks are copied instead of fetched (`--seed`); each copy is verified. */
  seeds?: readonly SeedSpec[];
  progress?: Progress;
  signal?: AbortSignal;
}

/** Where the bytes of an extraction came from. */
export interface ExtractBlobResult {
  size: number;
  chunks: number;
  /** Chunks fetched from the store. */
  fetchedChunks: number;
  /** Chunks already correct in an existing output, kept without fetching. */
  keptChunks: number;
  /** Chunks written again from the one read of a chunk the index holds more than once. */
  copiedChunks: number;
  /** Chunks copied from seed files. */
  seedChunks: number;
  /** All-zero chunks of the maximum size, left as holes of the sparse output (the null seed). */
  zeroChunks: number;
  /**
   * Bytes by origin: `seed`, `existing` (kept from the output), `self` (repeats), `zero`
   * (holes), and for fetched chunks the name of the store each came from (a cache or a
   * store of -s).
   */
  bytesFrom: Record<string, number>;
}

// Chunks per worker message on the local path: one message per chunk cost as much CPU as
// hashing a tenth of the data.
const BATCH_CHUNKS = 32;
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Fails unless the block device `path` is free and holds at least `size` bytes. O_EXCL on a
 * block device fails with EBUSY while it is mounted (or held open so by another program); its
 * stat size is 0, so the last byte the blob needs must be readable.
 */
function checkDevice(path: string, size: number): void {
  let got = 1;
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_EXCL);
    try {
      if (size > 0) got = readSync(fd, Buffer.alloc(1), 0, 1, size - 1);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EBUSY') {
      throw new FileError(path, 'the device is in use (mounted?); unmount it first', { cause: err });
    }
    throw new FileError(path, `cannot read the device: ${describeSystemError(err)}`, { cause: err });
  }
  if (got === 0) {
    throw new FileError(path, `the device is smaller than the ${size} bytes the index describes`);
  }
}

/** The stores behind `store` when all keep chunks in local files: workers read those directly. */
function fileStoresOf(store: Store): readonly FileStore[] | undefined {
  if (isFileStore(store)) return [store];
  if (store instanceof StoreRouter && store.stores.every(isFileStore)) return store.stores as FileStore[];
  return undefined;
}

/**
 * Cuts the distinct chunks `work` (numbers in `groups`) into batches of a few chunks (or one
 * each, when only the store can serve them), as they are asked for: the first batch goes out
 * at once.
 */
function* batchesOf(groups: ChunkGroups, work: Int32Array, perBatch: number): Generator<Group[]> {
  let batch: Group[] = [];
  let bytes = 0;
  for (const k of work) {
    const g = groups.group(k);
    batch.push(g);
    bytes += g.size;
    if (batch.length >= perBatch || bytes >= BATCH_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Writes the blob an index describes. Worker threads read, decompress, verify and `pwrite`
 * chunks into a preallocated temporary file beside the output, renamed over it when all is
 * written. A chunk the index holds several times is read once and written at every offset.
 * Before a store is asked, a chunk is taken from: nowhere when it is all zeros of the
 * maximum size (a hole); the existing output at the same place; a seed. Every copied range
 * is hashed against the id first, so a stale seed only costs a fetch. Chunks of local stores
 * are read by the workers themselves, several per message.
 */
export async function extractBlob(options: ExtractBlobOptions): Promise<ExtractBlobResult> {
  const { index, store, output } = options;
  const progress = options.progress ?? NO_PROGRESS;
  const target = await outputTarget(output);
  if (target.kind === 'fifo' || target.kind === 'socket') {
    throw new FileError(
      output,
      `is a ${target.kind === 'fifo' ? 'FIFO' : 'socket'}; extract writes at offsets: give a regular file or a device (\`desync cat\` streams a blob in order)`,
    );
  }
  // A device is written where it is (a rename would replace its node by a file); what it
  // already holds at a chunk's place is kept when it hashes to the chunk's id.
  const inPlace = writesInPlace(target);
  const existing = target.kind === 'file' ? target.stats : undefined;
  let existingSize = existing?.size ?? 0;
  const temp = inPlace ? output : tempPathFor(target.path);
  if (target.kind === 'block-device') {
    checkDevice(output, index.blobSize);
    existingSize = index.blobSize;
  } else if (!inPlace) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'wx', existing ? existing.mode & 0o7777 : 0o644);
      await handle.truncate(index.blobSize);
      await handle.close();
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw new FileError(output, `cannot write: ${describeSystemError(err)}`, { cause: err });
    }
  }
  // A device is written in place, its blocks are there already.
  const allocating = inPlace ? undefined : loadAllocateRange();
  const pool = new WorkerPool(options.workers);
  // The main thread writes what the workers' batches read and verified: one writer per file.
  // Written batches' buffers go back to the workers with later batches.
  let fd: number | undefined;
  let allocate = await allocating;
  const spares: ArrayBuffer[] = [];
  const closeFd = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  const fileStores = fileStoresOf(store);
  let readAhead: ChunkReadAhead | undefined;
  // The store a worker read from: its position in an item's `paths`.
  const storeAt = (path: number): string => String(fileStores?.[path] ?? store);
  const concurrency = options.concurrency ?? 10;
  const result: ExtractBlobResult = {
    size: index.blobSize,
    chunks: index.length,
    fetchedChunks: 0,
    keptChunks: 0,
    copiedChunks: 0,
    seedChunks: 0,
    zeroChunks: 0,
    bytesFrom: {},
  };
  const count = (origin: string, bytes: number): void => {
    result.bytesFrom[origin] = (result.bytesFrom[origin] ?? 0) + bytes;
  };
  let doneBytes = 0;
  progress.start('extract', index.blobSize);
  try {
    const seeds: SeedChunks = options.seeds?.length
      ? await openSeeds(options.seeds, index.chunkSizes, options.signal)
      : new Map();
    // Runs of zeros chunk into maximum-size chunks; the preallocated temp file already reads
    // as zeros there, so those chunks need no bytes at all (a hole). Not so on a device.
    const zeroId = zeroChunkDigest(index.chunkSizes.max);
    const groups = groupChunks(index);
    // The distinct chunks to write (by number in `groups`).
    const work = new Int32Array(groups.length);
    let works = 0;
    for (let k = 0; k < groups.length; k++) {
      const size = groups.size(k);
      if (!inPlace && size === index.chunkSizes.max && groups.hasId(k, zeroId)) {
        const n = groups.count(k);
        result.zeroChunks += n;
        count('zero', size * n);
        doneBytes += size * n;
      } else {
        work[works++] = k;
      }
    }
    const todo = work.subarray(0, works);
    progress.update(doneBytes, result.bytesFrom);

    // Sources a worker can try before the store is asked.
    const itemOf = (g: Group): ExtractItem => {
      const id = g.id;
      const copies: ExtractItem['copies'] = [];
      // A few of its places in the existing output (a chunk repeated thousands of times, zeros
      // on a device, is not looked for at every one before the store is asked).
      for (const at of g.offsets.slice(0, 8)) {
        if (existingSize >= at + g.size) copies.push({ file: output, offset: at });
      }
      const seed = seeds.get(id);
      if (seed) copies.push(seed);
      return {
        id,
        size: g.size,
        offsets: g.offsets,
        copies,
        paths: fileStores?.map((s) => s.chunkPath(id)) ?? [],
      };
    };
    const local = fileStores !== undefined || seeds.size > 0 || existingSize > 0;
    const batches = batchesOf(groups, todo, local ? BATCH_CHUNKS : 1);
    // Chunk files of the first store read ahead of the workers once they find it cold.
    const firstStore = fileStores?.[0];
    readAhead = firstStore
      ? new ChunkReadAhead((i) => firstStore.chunkPath(groups.id(todo[i] as number)), todo.length)
      : undefined;
    let handed = 0;
    let fetching = 0;
    const fetchSlots: (() => void)[] = [];
    const acquire = async (): Promise<void> => {
      if (fetching < concurrency) {
        fetching++;
        return;
      }
      await new Promise<void>((resolve) => fetchSlots.push(resolve));
    };
    const release = (): void => {
      const next = fetchSlots.shift();
      if (next) next();
      else fetching--;
    };

    const fetchAndWrite = async (g: Group): Promise<void> => {
      await acquire();
      try {
        const chunk = await store.getChunk(g.id, { expectedSize: g.size, signal: options.signal });
        const plain = !chunk.hasCompressed;
        const data = plain ? await chunk.plainData() : await chunk.compressedData();
        const r = await pool.run(
          {
            type: 'write-chunk',
            target: temp,
            offsets: g.offsets,
            size: g.size,
            id: g.id,
            data,
            plain,
            skipZero: !inPlace,
            inPlace,
          },
          transferable(data),
        );
        if (!r.ok) {
          if (r.kind === 'invalid') throw new ChunkInvalid(g.id, chunk.source, r.message);
          throw new FileError(output, r.code ? describeSystemError(r) : r.message);
        }
        tally(g, { done: true }, chunk.source);
      } finally {
        release();
      }
    };

    // `copy`: the source range the worker wrote the chunk from, when it came from one.
    const tally = (
      g: Group,
      outcome: ExtractOutcome & { done: true },
      fetchedFrom?: string,
      copy?: ExtractItem['copies'][number],
    ): void => {
      if (copy && copy.file === output && existingSize > 0) {
        result.keptChunks++;
        count('existing', g.size);
      } else if (copy) {
        result.seedChunks++;
        count('seed', g.size);
      } else {
        result.fetchedChunks++;
        const from = fetchedFrom ?? storeAt(outcome.path ?? 0);
        count(from, g.size);
      }
      const repeats = g.offsets.length - 1;
      if (repeats > 0) {
        result.copiedChunks += repeats;
        count('self', g.size * repeats);
      }
      doneBytes += g.size * g.offsets.length;
      progress.update(doneBytes, result.bytesFrom);
    };

    await forEachBounded(
      batches,
      // Local batches: six per worker (up to 4 MiB each) ride out the main thread's slower
      // writes without idling the workers; against three, 512 MiB extracts ran 6-7% faster
      // (medians of 8 alternating runs) for 15 MB more peak RSS.
      local ? 6 * pool.size : concurrency,
      async (batch) => {
        handed += batch.length;
        readAhead?.handed(handed);
        const items = batch.map(itemOf);
        let outcomes: ExtractOutcome[];
        if (items.some((it) => it.copies.length > 0 || it.paths.length > 0)) {
          const buffer = spares.pop();
          const r = await pool.run(
            {
              type: 'extract-batch',
              skipZero: !inPlace,
              inPlace: inPlace ? output : undefined,
              items,
              buffer,
            },
            buffer ? [buffer] : [],
          );
          // Half of a batch's reads waited for the disk (a few slow ones may be preemption).
          if (r.ok && (r.slowReads ?? 0) >= Math.max(2, items.length / 2)) readAhead?.start();
          if (!r.ok) {
            const reason = r.code ? describeSystemError(r) : r.message;
            if (!r.storeRead) throw new FileError(output, reason);
            throw new StoreError(
              storeAt(r.storeRead.path),
              `cannot read chunk ${r.storeRead.chunk}: ${reason}`,
            );
          }
          outcomes = r.outcomes ?? [];
          if (r.data && r.writes) {
            try {
              fd ??= openSync(temp, 'r+');
              if (allocate && !allocatePieces(fd, r.writes, allocate)) allocate = undefined;
              writePieces(fd, r.data, r.writes);
              spares.push(r.data.buffer as ArrayBuffer);
            } catch (err) {
              throw new FileError(output, `cannot write: ${describeSystemError(err)}`, { cause: err });
            }
          }
        } else {
          outcomes = items.map(() => ({ done: false }));
        }
        const fetches: Promise<void>[] = [];
        for (const [k, g] of batch.entries()) {
          const o = outcomes[k] ?? { done: false };
          if (o.done) {
            tally(g, o, undefined, o.copy === undefined ? undefined : items[k]?.copies[o.copy]);
            continue;
          }
          if (o.invalid) {
            throw new ChunkInvalid(g.id, storeAt(o.invalid.path), o.invalid.message);
          }
          // Every store is a local directory and none holds it.
          if (fileStores) throw new ChunkMissing(g.id, store.toString());
          fetches.push(fetchAndWrite(g));
        }
        await Promise.all(fetches);
      },
      options.signal,
    );
    readAhead?.stop();
    await pool.close();
    try {
      // A device's bytes reach it before extract says it is done (it may be unplugged next).
      if (target.kind === 'block-device' && fd !== undefined) fsyncSync(fd);
      closeFd();
    } catch (err) {
      throw new FileError(output, `cannot write: ${describeSystemError(err)}`, { cause: err });
    }
    if (!inPlace) {
      await rename(temp, target.path).catch((err) => {
        throw new FileError(output, `cannot write: ${describeSystemError(err)}`, { cause: err });
      });
    }
    return result;
  } catch (err) {
    readAhead?.stop();
    await pool.close();
    try {
      closeFd();
    } catch {}
    if (!inPlace) await unlink(temp).catch(() => undefined);
    throw err;
  } finally {
    progress.stop();
  }
}
