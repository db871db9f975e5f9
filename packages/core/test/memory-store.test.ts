import type { Chunk } from '../src/chunk.js';
import { describeStoreConformance } from '../src/testing/index.js';
import { MemoryStore } from './memory-store.js';

// Running the shared suite against the simplest possible store proves the suite itself.
describeStoreConformance<MemoryStore>('MemoryStore', {
  create: async () => new MemoryStore(),
  writable: true,
  corrupt: async (store, id, bytes) => {
    store.entries.set(id, bytes);
  },
  addNonChunkEntries: async (store) => {
    const junk = new Uint8Array([1, 2, 3]);
    store.entries.set('.tmp-upload', junk);
    store.entries.set('A'.repeat(64), junk);
    store.entries.set(`${'a'.repeat(64)}.cacnk`, junk);
    store.entries.set('a'.repeat(63), junk);
  },
});

// The same store seeded from outside and treated as read-only covers the suite's seed path.
describeStoreConformance<MemoryStore>('MemoryStore (read-only)', {
  create: async () => new MemoryStore({ name: 'memory (read-only)' }),
  writable: false,
  seed: async (chunks: readonly Chunk[]) => {
    const store = new MemoryStore({ name: 'memory (read-only)' });
    for (const chunk of chunks) store.entries.set(chunk.id, await chunk.compressedData());
    return store;
  },
  corrupt: async (store, id, bytes) => {
    store.entries.set(id, bytes);
  },
  minimalData: true,
});
