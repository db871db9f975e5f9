/**
 * Pulls exact byte counts out of an async stream of blocks of any size, keeping at most one
 * source block (plus one object being assembled) in memory. `offset` counts consumed bytes.
 * Not exported from the package: decodeCatar's internal cursor.
 */
export class ByteReader {
  /** Bytes consumed so far, i.e. the stream offset of the next byte. */
  offset = 0;
  private readonly it: AsyncIterator<Uint8Array>;
  private block: Uint8Array = new Uint8Array(0);
  private pos = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.pos >= this.block.length) {
      const r = await this.it.next();
      if (r.done) return false;
      this.block = r.value;
      this.pos = 0;
    }
    return true;
  }

  /** Whether the stream has no more bytes. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }

  /** Exactly `n` bytes, or undefined when the stream ends first (what was read is lost). */
  async read(n: number): Promise<Uint8Array | undefined> {
    if (!(await this.fill())) return n === 0 ? new Uint8Array(0) : undefined;
    if (this.block.length - this.pos >= n) {
      const out = this.block.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      if (!(await this.fill())) return undefined;
      const take = Math.min(n - at, this.block.length - this.pos);
      out.set(this.block.subarray(this.pos, this.pos + take), at);
      this.pos += take;
      this.offset += take;
      at += take;
    }
    return out;
  }

  /** Between 1 and `max` bytes as they come (no copy), or undefined at the end of the stream. */
  async readSome(max: number): Promise<Uint8Array | undefined> {
    if (!(await this.fill())) return undefined;
    const take = Math.min(max, this.block.length - this.pos);
    const out = this.block.subarray(this.pos, this.pos + take);
    this.pos += take;
    this.offset += take;
    return out;
  }

  /** Releases the source (e.g. closes the file behind it) when decoding stops early. */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}
