/**
 * Plain chunk bytes by chunk number, least recently used first out, bounded by the total
 * byte size. A Map keeps insertion order, so re-inserting on use makes its first key the
 * least recently used one.
 */
export class ChunkCache {
  private readonly entries = new Map<number, Uint8Array>();
  private bytes = 0;

  /** @param maxBytes total size kept; 0 keeps nothing. */
  constructor(private readonly maxBytes: number) {}

  /** The chunk's bytes, marked as just used, or undefined. */
  get(chunk: number): Uint8Array | undefined {
    const data = this.entries.get(chunk);
    if (data === undefined) return undefined;
    this.entries.delete(chunk);
    this.entries.set(chunk, data);
    return data;
  }

  /** Keeps `data`, then drops least recently used chunks until the total fits. */
  set(chunk: number, data: Uint8Array): void {
    if (data.byteLength > this.maxBytes) return;
    const old = this.entries.get(chunk);
    if (old !== undefined) {
      this.bytes -= old.byteLength;
      this.entries.delete(chunk);
    }
    this.entries.set(chunk, data);
    this.bytes += data.byteLength;
    for (const [key, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= value.byteLength;
    }
  }

  /** Bytes held now. */
  get size(): number {
    return this.bytes;
  }
}
