import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Chunk } from '../src/chunk.js';
import { digestChunk } from '../src/chunk-id.js';
import { ChunkInvalid } from '../src/errors.js';
import { rawZstdFrame } from '../src/testing/index.js';
import { loadCodec, MAX_CHUNK_SIZE } from '../src/zstd-codec.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('Chunk', () => {
  it('computes the id of plain bytes', async () => {
    const data = randomBytes(1000);
    const chunk = Chunk.fromPlain(data);
    expect(chunk.id).toBe(digestChunk(data));
    expect(chunk.source).toBe('memory');
    expect(await chunk.plainData()).toBe(data);
  });

  it('compresses plain bytes into a frame that reads back as the same chunk', async () => {
    const data = randomBytes(100_000);
    const chunk = Chunk.fromPlain(data);
    expect(chunk.hasCompressed).toBe(false);
    const frame = await chunk.compressedData();
    expect(chunk.hasCompressed).toBe(true);
    const read = Chunk.fromCompressed(chunk.id, frame, { source: 'test store' });
    expect(Buffer.from(await read.plainData()).equals(data)).toBe(true);
    expect(await read.compressedData()).toBe(frame);
  });

  it('handles a 0-byte chunk', async () => {
    const chunk = Chunk.fromPlain(new Uint8Array(0));
    const read = Chunk.fromCompressed(chunk.id, await chunk.compressedData(), { source: 's' });
    expect((await read.plainData()).length).toBe(0);
  });

  it('reads a frame without a declared content size, whatever size is expected', async () => {
    const data = randomBytes(300_000);
    const id = digestChunk(data);
    for (const expectedSize of [undefined, 1, data.length, data.length * 4]) {
      const chunk = Chunk.fromCompressed(id, rawZstdFrame(data), { source: 's', expectedSize });
      expect(Buffer.from(await chunk.plainData()).equals(data)).toBe(true);
    }
  });

  it('rejects a chunk whose content hashes to another id with ChunkInvalid', async () => {
    const codec = await loadCodec();
    const id = digestChunk(randomBytes(10));
    const other = randomBytes(1000);
    const chunk = Chunk.fromCompressed(id, codec.compress(other), { source: 'store A' });
    const err = (await rejection(chunk.plainData())) as ChunkInvalid;
    expect(err).toBeInstanceOf(ChunkInvalid);
    expect(err.code).toBe('CHUNK_INVALID');
    expect(err.id).toBe(id);
    expect(err.store).toBe('store A');
    expect(err.reason).toContain(digestChunk(other));
  });

  it('rejects bytes that are not a zstd frame with ChunkInvalid, keeping the codec error as cause', async () => {
    const chunk = Chunk.fromCompressed(digestChunk(new Uint8Array(1)), randomBytes(500), { source: 's' });
    const err = (await rejection(chunk.plainData())) as ChunkInvalid;
    expect(err).toBeInstanceOf(ChunkInvalid);
    expect(err.reason).toBe('not a valid zstd frame');
    expect(err.cause).toBeDefined();
  });

  it('rejects a frame declaring more than the chunk size limit with ChunkInvalid', async () => {
    const header = new Uint8Array(14);
    header.set([0x28, 0xb5, 0x2f, 0xfd, 0xe0]);
    new DataView(header.buffer).setBigUint64(5, BigInt(MAX_CHUNK_SIZE) * 8n, true);
    const chunk = Chunk.fromCompressed(digestChunk(new Uint8Array(1)), header, { source: 's' });
    const err = (await rejection(chunk.plainData())) as ChunkInvalid;
    expect(err).toBeInstanceOf(ChunkInvalid);
    expect(err.cause).toBeInstanceOf(RangeError);
  });

  it('does not hand out compressed bytes it never verified as plain', async () => {
    // compressedData() of a stored chunk is the frame as read; plainData() is the check.
    const codec = await loadCodec();
    const frame = codec.compress(randomBytes(100));
    const chunk = Chunk.fromCompressed(digestChunk(new Uint8Array(1)), frame, { source: 's' });
    expect(await chunk.compressedData()).toBe(frame);
    await expect(chunk.plainData()).rejects.toBeInstanceOf(ChunkInvalid);
  });

  it('verifies unverified plain bytes against the id', async () => {
    const data = randomBytes(64);
    const good = Chunk.fromUnverifiedPlain(digestChunk(data), data, { source: 's' });
    expect(await good.plainData()).toBe(data);
    const bad = Chunk.fromUnverifiedPlain(digestChunk(randomBytes(64)), data, { source: 's' });
    await expect(bad.plainData()).rejects.toBeInstanceOf(ChunkInvalid);
    await expect(bad.compressedData()).rejects.toBeInstanceOf(ChunkInvalid);
  });

  it('keeps failing on every read of a corrupt chunk', async () => {
    const chunk = Chunk.fromCompressed(digestChunk(new Uint8Array(1)), rawZstdFrame(randomBytes(10)), {
      source: 's',
    });
    await expect(chunk.plainData()).rejects.toBeInstanceOf(ChunkInvalid);
    await expect(chunk.plainData()).rejects.toBeInstanceOf(ChunkInvalid);
  });
});
