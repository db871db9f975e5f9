import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Chunk } from '../src/chunk.js';
import type { ChunkId } from '../src/chunk-id.js';
import { ChunkMissing, InvalidArgument, StoreError } from '../src/errors.js';
import { FailoverStore, FailoverWriteStore, failoverStore } from '../src/failover-store.js';
import type { Store } from '../src/store.js';
import { isWriteStore } from '../src/store.js';
import { MemoryStore } from './memory-store.js';

/** Mirrors holding the same chunk. */
async function mirrors(count: number): Promise<{ stores: MemoryStore[]; chunk: Chunk }> {
  const chunk = Chunk.fromPlain(randomBytes(200));
  const stores = Array.from({ length: count }, (_, i) => new MemoryStore({ name: `m${i}` }));
  for (const s of stores) await s.storeChunk(chunk);
  return { stores, chunk };
}

/** A read-only store whose hasChunk fails, for the hasChunk failover path. */
class BrokenLookups implements Store {
  calls = 0;
  async getChunk(id: ChunkId): Promise<Chunk> {
    throw new StoreError('broken', `cannot read ${id}`);
  }
  async hasChunk(): Promise<boolean> {
    this.calls++;
    throw new StoreError('broken', 'connection reset');
  }
  async close(): Promise<void> {}
  toString(): string {
    return 'broken';
  }
}

describe('FailoverStore', () => {
  it('serves every request from the first member while it works', async () => {
    const { stores, chunk } = await mirrors(2);
    const group = new FailoverStore(stores);
    expect((await group.getChunk(chunk.id)).source).toBe('m0');
    expect((await group.getChunk(chunk.id)).source).toBe('m0');
    expect(stores[1].calls.getChunk).toBe(0);
  });

  it('fails over to the next member on an error and stays there', async () => {
    const { stores, chunk } = await mirrors(3);
    stores[0].failWith = new StoreError('m0', 'connection refused');
    const group = new FailoverStore(stores);
    expect((await group.getChunk(chunk.id)).source).toBe('m1');
    expect(group.active).toBe(stores[1]);
    // Remembered: the failed member is not asked again.
    expect((await group.getChunk(chunk.id)).source).toBe('m1');
    expect(stores[0].calls.getChunk).toBe(1);
  });

  it('goes round robin, back to the first member after the last fails', async () => {
    const { stores, chunk } = await mirrors(2);
    const group = new FailoverStore(stores);
    stores[0].failWith = new StoreError('m0', 'down');
    expect((await group.getChunk(chunk.id)).source).toBe('m1');
    stores[0].failWith = undefined;
    stores[1].failWith = new StoreError('m1', 'down');
    expect((await group.getChunk(chunk.id)).source).toBe('m0');
    expect(group.active).toBe(stores[0]);
  });

  it('returns ChunkMissing as is, without failing over', async () => {
    const stores = [new MemoryStore({ name: 'a' }), new MemoryStore({ name: 'b' })];
    const chunk = Chunk.fromPlain(randomBytes(50));
    await stores[1].storeChunk(chunk);
    const group = new FailoverStore(stores);
    await expect(group.getChunk(chunk.id)).rejects.toBeInstanceOf(ChunkMissing);
    expect(stores[1].calls.getChunk).toBe(0);
    expect(group.active).toBe(stores[0]);
  });

  it('reports the last error once every member failed', async () => {
    const { stores, chunk } = await mirrors(2);
    stores[0].failWith = new StoreError('m0', 'down');
    stores[1].failWith = new StoreError('m1', 'down too');
    const group = new FailoverStore(stores);
    await expect(group.getChunk(chunk.id)).rejects.toBe(stores[1].failWith);
    expect(stores[0].calls.getChunk).toBe(1);
    expect(stores[1].calls.getChunk).toBe(1);
  });

  it('moves on only once when concurrent requests fail on the same member', async () => {
    const { stores, chunk } = await mirrors(3);
    stores[0].failWith = new StoreError('m0', 'down');
    const group = new FailoverStore(stores);
    const got = await Promise.all(Array.from({ length: 5 }, () => group.getChunk(chunk.id)));
    expect(got.map((c) => c.source)).toEqual(Array(5).fill('m1'));
    expect(stores[2].calls.getChunk).toBe(0);
  });

  it('fails over hasChunk too', async () => {
    const broken = new BrokenLookups();
    const { stores, chunk } = await mirrors(1);
    const group = new FailoverStore([broken, stores[0]]);
    expect(await group.hasChunk(chunk.id)).toBe(true);
    expect(await group.hasChunk(chunk.id)).toBe(true);
    expect(broken.calls).toBe(1);
  });

  it('does not fail over an aborted request', async () => {
    const { stores, chunk } = await mirrors(2);
    const group = new FailoverStore(stores);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(group.getChunk(chunk.id, { signal: controller.signal })).rejects.toThrow('stop');
    expect(group.active).toBe(stores[0]);
  });

  it('names its members joined by | and closes them all', async () => {
    const { stores } = await mirrors(2);
    const group = new FailoverStore(stores);
    expect(String(group)).toBe('m0|m1');
    await group.close();
    expect(stores.map((s) => s.calls.close)).toEqual([1, 1]);
  });

  it('refuses an empty group', () => {
    expect(() => new FailoverStore([])).toThrow(InvalidArgument);
  });
});

describe('failoverStore', () => {
  it('is writable when every member is, writing to the active member', async () => {
    const stores = [new MemoryStore({ name: 'a' }), new MemoryStore({ name: 'b' })];
    stores[0].failWith = new StoreError('a', 'down');
    const group = failoverStore(stores);
    expect(group).toBeInstanceOf(FailoverWriteStore);
    const chunk = Chunk.fromPlain(randomBytes(80));
    if (!isWriteStore(group)) throw new Error('expected a write store');
    await group.storeChunk(chunk);
    expect(stores[0].entries.has(chunk.id)).toBe(true);
    expect(stores[1].entries.has(chunk.id)).toBe(false);
  });

  it('is read-only when a member is', () => {
    const group = failoverStore([new BrokenLookups(), new MemoryStore()]);
    expect(isWriteStore(group)).toBe(false);
  });
});
