import { type ChunkId, digestChunk } from './chunk-id.js';
import { ChunkInvalid } from './errors.js';
import { loadCodec, MAX_CHUNK_SIZE } from './zstd-codec.js';

/** Where a chunk's bytes came from, for messages: a store's name, a file, "memory". */
export interface ChunkOrigin {
  /** Names the store or file the bytes were read from. */
  readonly source: string;
  /** Plain size the reader expects (from an index), when known. */
  readonly expectedSize?: number;
}

/**
 * A chunk: its id plus compressed and/or plain bytes, converted lazily. Bytes that came
 * from outside (a store) are checked against the id the first time they are decompressed,
 * so a Chunk never hands out plain bytes that do not hash to its id.
 */
export class Chunk {
  private constructor(
    readonly id: ChunkId,
    private plain: Uint8Array | undefined,
    private compressed: Uint8Array | undefined,
    private readonly origin: ChunkOrigin,
  ) {}

  /** A chunk made from plain bytes; the id is computed unless given (and then trusted). */
  static fromPlain(data: Uint8Array, id?: ChunkId): Chunk {
    return new Chunk(id ?? digestChunk(data), data, undefined, { source: 'memory' });
  }

  /** A chunk read as a zstd frame from `origin`; verified when its plain bytes are first read. */
  static fromCompressed(id: ChunkId, compressed: Uint8Array, origin: ChunkOrigin): Chunk {
    return new Chunk(id, undefined, compressed, origin);
  }

  /** A chunk read uncompressed from `origin`; verified when its plain bytes are first read. */
  static fromUnverifiedPlain(id: ChunkId, data: Uint8Array, origin: ChunkOrigin): Chunk {
    const chunk = new Chunk(id, undefined, undefined, origin);
    chunk.unverifiedPlain = data;
    return chunk;
  }

  private unverifiedPlain: Uint8Array | undefined;

  /** Names the store or file this chunk came from. */
  get source(): string {
    return this.origin.source;
  }

  /** True when the compressed form is at hand without compressing. */
  get hasCompressed(): boolean {
    return this.compressed !== undefined;
  }

  /** The plain bytes, decompressed and verified against the id on first use. */
  async plainData(): Promise<Uint8Array> {
    if (this.plain) return this.plain;
    let data = this.unverifiedPlain;
    if (!data) {
      const codec = await loadCodec();
      try {
        data = codec.decompress(this.compressed!, MAX_CHUNK_SIZE, this.origin.expectedSize);
      } catch (err) {
        throw new ChunkInvalid(this.id, this.origin.source, 'not a valid zstd frame', { cause: err });
      }
    }
    const actual = digestChunk(data);
    if (actual !== this.id) {
      throw new ChunkInvalid(this.id, this.origin.source, `content hashes to ${actual}`);
    }
    this.plain = data;
    this.unverifiedPlain = undefined;
    return data;
  }

  /**
   * The zstd frame. For chunks read from a store this is the stored frame as it was read:
   * callers that need trusted bytes call plainData() first.
   */
  async compressedData(): Promise<Uint8Array> {
    if (this.compressed) return this.compressed;
    const plain = await this.plainData();
    const codec = await loadCodec();
    this.compressed = codec.compress(plain);
    return this.compressed;
  }
}
