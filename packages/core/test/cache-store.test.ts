import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CacheStore } from '../src/cache-store.js';
import { Chunk } from '../src/chunk.js';
import { digestChunk } from '../src/chunk-id.js';
import { ChunkInvalid, ChunkMissing, StoreError } from '../src/errors.js';
import { loadCodec } from '../src/zstd-codec.js';
import { MemoryStore } from './memory-store.js';

function setup(): { cache: MemoryStore; backend: MemoryStore; store: CacheStore } {
  const cache = new MemoryStore({ name: 'cache' });
  const backend = new MemoryStore({ name: 'remote' });
  return { cache, backend, store: new CacheStore({ cache, backend }) };
}

describe('CacheStore', () => {
  it('fetches a miss from the backend and fills the cache with it', async () => {
    const { cache, backend, store } = setup();
    const chunk = Chunk.fromPlain(randomBytes(1000));
    await backend.storeChunk(chunk);
    const got = await store.getChunk(chunk.id);
    expect(Buffer.from(await got.plainData()).equals(await chunk.plainData())).toBe(true);
    expect(cache.entries.has(chunk.id)).toBe(true);
    expect(await cache.hasChunk(chunk.id)).toBe(true);
  });

  it('serves a hit from the cache without asking the backend', async () => {
    const { cache, backend, store } = setup();
    const chunk = Chunk.fromPlain(randomBytes(1000));
    await backend.storeChunk(chunk);
    await store.getChunk(chunk.id);
    const got = await store.getChunk(chunk.id);
    expect(got.source).toBe('cache');
    expect(backend.calls.getChunk).toBe(1);
    expect(cache.calls.getChunk).toBe(2);
  });

  it('touches a chunk on a hit, so age-based pruning of the cache keeps it', async () => {
    const { cache, store } = setup();
    const chunk = Chunk.fromPlain(randomBytes(100));
    await cache.storeChunk(chunk);
    await store.getChunk(chunk.id);
    await store.getChunk(chunk.id);
    expect(cache.touched).toEqual([chunk.id, chunk.id]);
  });

  it('serves a hit even when touching fails', async () => {
    const { cache, store } = setup();
    const chunk = Chunk.fromPlain(randomBytes(100));
    await cache.storeChunk(chunk);
    cache.touchFailsWith = new StoreError('cache', 'read-only file system');
    expect((await store.getChunk(chunk.id)).id).toBe(chunk.id);
  });

  it('does not cache a corrupt chunk from the backend, and reports it as ChunkInvalid', async () => {
    const { cache, backend, store } = setup();
    const id = digestChunk(randomBytes(100));
    backend.entries.set(id, (await loadCodec()).compress(randomBytes(100)));
    const err = await store.getChunk(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChunkInvalid);
    expect((err as ChunkInvalid).store).toBe('remote');
    expect(cache.entries.has(id)).toBe(false);
    expect(cache.calls.storeChunk).toBe(0);
  });

  it('rejects with ChunkMissing when neither cache nor backend has the chunk', async () => {
    const { store } = setup();
    await expect(store.getChunk(digestChunk(randomBytes(10)))).rejects.toBeInstanceOf(ChunkMissing);
  });

  it('reports a cache failure other than a miss instead of going around it', async () => {
    const { cache, backend, store } = setup();
    const chunk = Chunk.fromPlain(randomBytes(100));
    await backend.storeChunk(chunk);
    cache.failWith = new StoreError('cache', 'permission denied');
    await expect(store.getChunk(chunk.id)).rejects.toBe(cache.failWith);
    expect(backend.calls.getChunk).toBe(0);
  });

  it('passes an abort signal on to the stores', async () => {
    const { backend, store } = setup();
    const chunk = Chunk.fromPlain(randomBytes(100));
    await backend.storeChunk(chunk);
    const reason = new Error('stop');
    await expect(store.getChunk(chunk.id, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it('hasChunk is true when the cache or the backend has the chunk', async () => {
    const { cache, backend, store } = setup();
    const [a, b] = [Chunk.fromPlain(randomBytes(10)), Chunk.fromPlain(randomBytes(10))];
    await cache.storeChunk(a);
    await backend.storeChunk(b);
    expect(await store.hasChunk(a.id)).toBe(true);
    expect(await store.hasChunk(b.id)).toBe(true);
    expect(await store.hasChunk(digestChunk(randomBytes(10)))).toBe(false);
  });

  it('closes both stores and names both', async () => {
    const { cache, backend, store } = setup();
    expect(store.toString()).toBe('remote (cache cache)');
    await store.close();
    expect([cache.calls.close, backend.calls.close]).toEqual([1, 1]);
  });
});
