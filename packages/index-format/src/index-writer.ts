import { constants } from 'node:fs';
import { type FileHandle, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  type ChunkId,
  chunkIdToBytes,
  DesyncError,
  describeSystemError,
  FileError,
  outputTarget,
  tempPathFor,
  writesInPlace,
  writeToStdout,
} from '@desync/core';
import type { ChunkIndex, IndexChunkSizes } from './chunk-index.js';
import {
  CA_FORMAT_INDEX,
  CA_FORMAT_TABLE,
  CA_FORMAT_TABLE_TAIL_MARKER,
  INDEX_HEADER_SIZE,
  TABLE_HEADER_SIZE,
  TABLE_ITEM_SIZE,
  TABLE_TAIL_SIZE,
} from './format-constants.js';

/** The 64 bytes before the first chunk entry: index header and table header. */
export function encodeIndexHead(featureFlags: bigint, sizes: IndexChunkSizes): Buffer {
  const b = Buffer.alloc(INDEX_HEADER_SIZE + TABLE_HEADER_SIZE);
  b.writeBigUInt64LE(BigInt(INDEX_HEADER_SIZE), 0);
  b.writeBigUInt64LE(CA_FORMAT_INDEX, 8);
  b.writeBigUInt64LE(featureFlags, 16);
  b.writeBigUInt64LE(BigInt(sizes.min), 24);
  b.writeBigUInt64LE(BigInt(sizes.avg), 32);
  b.writeBigUInt64LE(BigInt(sizes.max), 40);
  b.writeBigUInt64LE(0xffffffffffffffffn, 48);
  b.writeBigUInt64LE(CA_FORMAT_TABLE, 56);
  return b;
}

/** The 40-byte table tail for a table of `count` chunks. */
export function encodeIndexTail(count: number): Buffer {
  const b = Buffer.alloc(TABLE_TAIL_SIZE);
  b.writeBigUInt64LE(BigInt(INDEX_HEADER_SIZE), 16);
  b.writeBigUInt64LE(BigInt(TABLE_HEADER_SIZE + count * TABLE_ITEM_SIZE + TABLE_TAIL_SIZE), 24);
  b.writeBigUInt64LE(CA_FORMAT_TABLE_TAIL_MARKER, 32);
  return b;
}

/** The bytes of a whole index file, as casync writes it. */
export function encodeIndex(index: ChunkIndex): Buffer {
  const n = index.length;
  const out = Buffer.alloc(INDEX_HEADER_SIZE + TABLE_HEADER_SIZE + n * TABLE_ITEM_SIZE + TABLE_TAIL_SIZE);
  encodeIndexHead(index.featureFlags, index.chunkSizes).copy(out, 0);
  for (let i = 0; i < n; i++) {
    const at = INDEX_HEADER_SIZE + TABLE_HEADER_SIZE + i * TABLE_ITEM_SIZE;
    out.writeBigUInt64LE(BigInt(index.end(i)), at);
    out.set(index.idBytesAt(i), at + 8);
  }
  encodeIndexTail(n).copy(out, out.length - TABLE_TAIL_SIZE);
  return out;
}

/** Options of IndexWriter.create. */
export interface IndexWriterOptions {
  /** casync feature flags for the header (BLOB_INDEX_FLAGS for a .caibx). */
  featureFlags: bigint;
  chunkSizes: IndexChunkSizes;
}

const FLUSH_AT = 64 * 1024;

/**
 * Writes an index as chunks become known, in constant memory. The file is written under
 * a temporary name beside the target and renamed by finish(), so an index that exists is
 * always complete; abort() (or a crash) leaves no index behind.
 */
export class IndexWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private count = 0;
  private lastEnd = 0;
  private position = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    /** Where the index goes: `path`, the file a symbolic link `path` names, or `-` (stdout). */
    private readonly realPath: string,
    private readonly tempPath: string,
    /** `path` is a device or FIFO: the complete index is copied into it, not renamed over it. */
    private readonly direct: boolean,
  ) {}

  static async create(path: string, options: IndexWriterOptions): Promise<IndexWriter> {
    // A device or FIFO (`/dev/null`, a pipe) would be replaced by a file if renamed over: its
    // index is written in the temporary directory first (nothing can be created in /dev).
    const target = await outputTarget(path);
    const direct = writesInPlace(target);
    const tempPath = direct ? join(tmpdir(), basename(tempPathFor(path))) : tempPathFor(target.path);
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx', 0o644);
    } catch (err) {
      throw new FileError(path, `cannot write index: ${describeSystemError(err)}`, { cause: err });
    }
    const writer = new IndexWriter(
      handle,
      path,
      target.kind === 'socket' ? '-' : target.path,
      tempPath,
      direct,
    );
    writer.pending.push(encodeIndexHead(options.featureFlags, options.chunkSizes));
    writer.pendingBytes += INDEX_HEADER_SIZE + TABLE_HEADER_SIZE;
    return writer;
  }

  /** Appends the next chunk, which ends at `end` bytes into the blob. */
  async add(end: number, id: ChunkId): Promise<void> {
    if (end <= this.lastEnd) throw new RangeError(`chunk end ${end} does not follow ${this.lastEnd}`);
    const item = Buffer.allocUnsafe(TABLE_ITEM_SIZE);
    item.writeBigUInt64LE(BigInt(end), 0);
    chunkIdToBytes(id).copy(item, 8);
    this.pending.push(item);
    this.pendingBytes += TABLE_ITEM_SIZE;
    this.lastEnd = end;
    this.count++;
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    try {
      await this.handle.write(data, 0, data.length, this.position);
    } catch (err) {
      throw new FileError(this.path, `cannot write index: ${describeSystemError(err)}`, { cause: err });
    }
    this.position += data.length;
  }

  /** Writes the table tail and moves the index to its name. */
  /**
   * Writes the table tail and moves the index to its name. `beforeRename` runs on the
   * complete index under its temporary name (e.g. to check that every chunk is stored); if
   * it throws, no index appears.
   */
  async finish(beforeRename?: (completeIndexPath: string) => Promise<void>): Promise<void> {
    this.pending.push(encodeIndexTail(this.count));
    this.pendingBytes += TABLE_TAIL_SIZE;
    try {
      await this.flush();
      await this.handle.close();
    } catch (err) {
      await unlink(this.tempPath).catch(() => undefined);
      if (err instanceof FileError) throw err;
      throw new FileError(this.path, `cannot write index: ${describeSystemError(err)}`, { cause: err });
    }
    try {
      await beforeRename?.(this.tempPath);
      if (this.direct) {
        const bytes = await readFile(this.tempPath);
        if (this.realPath === '-') await writeToStdout(bytes);
        else await writeFile(this.realPath, bytes, { flag: constants.O_WRONLY });
        await unlink(this.tempPath);
      } else {
        await rename(this.tempPath, this.realPath);
      }
    } catch (err) {
      await unlink(this.tempPath).catch(() => undefined);
      if (err instanceof DesyncError) throw err;
      throw new FileError(this.path, `cannot write index: ${describeSystemError(err)}`, { cause: err });
    }
  }

  /** Drops the partial index. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }
}

/** Writes a whole index atomically (temporary name, then rename). */
export async function writeIndex(path: string, index: ChunkIndex): Promise<void> {
  const writer = await IndexWriter.create(path, {
    featureFlags: index.featureFlags,
    chunkSizes: index.chunkSizes,
  });
  try {
    for (let i = 0; i < index.length; i++) await writer.add(index.end(i), index.id(i));
    await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
