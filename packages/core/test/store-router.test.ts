import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Chunk } from '../src/chunk.js';
import { ChunkInvalid, ChunkMissing, InvalidArgument, StoreError } from '../src/errors.js';
import { StoreRouter } from '../src/store-router.js';
import { MemoryStore } from './memory-store.js';

function stores(...names: string[]): MemoryStore[] {
  return names.map((name) => new MemoryStore({ name }));
}

describe('StoreRouter', () => {
  it('serves a chunk from the first store, in the order given, that has it', async () => {
    const [a, b, c] = stores('a', 'b', 'c');
    const chunk = Chunk.fromPlain(randomBytes(100));
    await b.storeChunk(chunk);
    await c.storeChunk(chunk);
    const got = await new StoreRouter([a, b, c]).getChunk(chunk.id);
    expect(got.source).toBe('b');
    expect(a.calls.getChunk).toBe(1);
    expect(b.calls.getChunk).toBe(1);
    expect(c.calls.getChunk).toBe(0);
  });

  it('asks the first store first even when a later one has the chunk too', async () => {
    const [a, b] = stores('a', 'b');
    const chunk = Chunk.fromPlain(randomBytes(100));
    await a.storeChunk(chunk);
    await b.storeChunk(chunk);
    expect((await new StoreRouter([b, a]).getChunk(chunk.id)).source).toBe('b');
    expect((await new StoreRouter([a, b]).getChunk(chunk.id)).source).toBe('a');
  });

  it('rejects with ChunkMissing naming every store when none has the chunk', async () => {
    const [a, b] = stores('/srv/a', 'http://b/');
    const id = Chunk.fromPlain(randomBytes(10)).id;
    const err = await new StoreRouter([a, b]).getChunk(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChunkMissing);
    expect((err as ChunkMissing).id).toBe(id);
    expect((err as ChunkMissing).store).toBe('/srv/a, http://b/');
    expect(a.calls.getChunk + b.calls.getChunk).toBe(2);
  });

  it('stops at an error other than a missing chunk and does not ask later stores', async () => {
    const [a, b, c] = stores('a', 'b', 'c');
    const chunk = Chunk.fromPlain(randomBytes(100));
    await c.storeChunk(chunk);
    b.failWith = new StoreError('b', 'connection refused');
    await expect(new StoreRouter([a, b, c]).getChunk(chunk.id)).rejects.toBe(b.failWith);
    expect(c.calls.getChunk).toBe(0);
  });

  it('stops at a ChunkInvalid too: a corrupt store must be repaired, not skipped', async () => {
    const [a, b] = stores('a', 'b');
    a.failWith = new ChunkInvalid('x', 'a', 'content hashes to y');
    await expect(new StoreRouter([a, b]).getChunk(Chunk.fromPlain(new Uint8Array(1)).id)).rejects.toBe(
      a.failWith,
    );
    expect(b.calls.getChunk).toBe(0);
  });

  it('passes the read options to each store', async () => {
    const [a] = stores('a');
    const reason = new Error('stop');
    const chunk = Chunk.fromPlain(randomBytes(10));
    await a.storeChunk(chunk);
    await expect(new StoreRouter([a]).getChunk(chunk.id, { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
  });

  it('hasChunk is true when any store has the chunk', async () => {
    const [a, b] = stores('a', 'b');
    const chunk = Chunk.fromPlain(randomBytes(10));
    const router = new StoreRouter([a, b]);
    expect(await router.hasChunk(chunk.id)).toBe(false);
    await b.storeChunk(chunk);
    expect(await router.hasChunk(chunk.id)).toBe(true);
  });

  it('closes every store', async () => {
    const list = stores('a', 'b');
    await new StoreRouter(list).close();
    expect(list.map((s) => s.calls.close)).toEqual([1, 1]);
  });

  it('names one store as itself and several as a list', () => {
    const [a, b] = stores('a', 'b');
    expect(new StoreRouter([a]).toString()).toBe('a');
    expect(new StoreRouter([a, b]).toString()).toBe('a, b');
  });

  it('refuses an empty list of stores with InvalidArgument', () => {
    expect(() => new StoreRouter([])).toThrow(InvalidArgument);
  });
});
