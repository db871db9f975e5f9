import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../src/errors.js';
import { openStore, registeredStoreSchemes, registerStoreScheme } from '../src/store-registry.js';
import { MemoryStore } from './memory-store.js';

describe('store registry', () => {
  it('opens a location with the first registered scheme that matches it', async () => {
    registerStoreScheme({
      name: 'test-mem',
      matches: (location) => location.startsWith('mem:'),
      open: (location) => new MemoryStore({ name: location }),
    });
    registerStoreScheme({
      name: 'test-mem-late',
      matches: (location) => location.startsWith('mem:'),
      open: () => new MemoryStore({ name: 'late' }),
    });
    expect((await openStore('mem:one')).toString()).toBe('mem:one');
  });

  it('registers a scheme name once', () => {
    const scheme = { name: 'test-once', matches: () => false, open: () => new MemoryStore() };
    registerStoreScheme(scheme);
    registerStoreScheme({ ...scheme });
    expect(registeredStoreSchemes().filter((s) => s.name === 'test-once')).toHaveLength(1);
  });

  it('rejects a location no scheme handles with InvalidArgument listing the installed ones', async () => {
    const err = await openStore('gopher://x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgument);
    expect((err as Error).message).toContain('test-mem');
  });
});
