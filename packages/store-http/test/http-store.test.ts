import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Chunk,
  type ChunkId,
  ChunkInvalid,
  ChunkMissing,
  FileError,
  InvalidArgument,
  loadCodec,
  StoreError,
} from '@desync/core';
import { describeStoreConformance } from '@desync/core/testing';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpStore, type HttpStoreOptions, httpStoreScheme } from '../src/index.js';
import { type ChunkStoreServerOptions, startChunkStoreServer } from './chunk-store-server.js';

const USER = 'reader';
const PASSWORD = 'pa55:w/rd';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const TOKEN = 'Bearer token-0f9d8c';

/** What each store made by a test runs against, so cleanup can stop it. */
const servers = new Map<HttpStore, { dir: string; close: () => Promise<void> }>();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function writeChunkFile(dir: string, id: ChunkId, bytes: Uint8Array): Promise<void> {
  await mkdir(join(dir, id.slice(0, 4)), { recursive: true });
  await writeFile(join(dir, id.slice(0, 4), `${id}.cacnk`), bytes);
}

/** A server on a fresh store directory (removed after the test) and a store reading it. */
async function serve(
  server: Omit<ChunkStoreServerOptions, 'dir'> = {},
  store: Omit<HttpStoreOptions, 'url'> & { url?: (base: string) => string } = {},
) {
  const dir = await makeTempDir('desync-store-http-');
  const running = await startChunkStoreServer({ ...server, dir });
  const { url, ...options } = store;
  const http = new HttpStore({ retryDelayMs: 1, ...options, url: url ? url(running.url) : running.url });
  cleanups.push(async () => {
    await http.close();
    await running.close();
    await removeTempDir(dir);
  });
  return { dir, server: running, store: http };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err as Error,
  );
}

async function conformanceStore(
  server: Omit<ChunkStoreServerOptions, 'dir'>,
  url: (base: string) => string,
  options: Omit<HttpStoreOptions, 'url'> = {},
): Promise<HttpStore> {
  const dir = await makeTempDir('desync-store-http-');
  const running = await startChunkStoreServer({ ...server, dir });
  const store = new HttpStore({ ...options, url: url(running.url) });
  servers.set(store, { dir, close: running.close });
  return store;
}

async function stopConformanceStore(store: HttpStore): Promise<void> {
  const entry = servers.get(store);
  servers.delete(store);
  await entry?.close();
  if (entry) await removeTempDir(entry.dir);
}

describeStoreConformance('HttpStore (writable, basic auth from the URL, path prefix)', {
  create: () =>
    conformanceStore({ prefix: '/stores/a/', authorization: BASIC }, (base) =>
      // No trailing slash: the prefix must still be kept.
      base.replace('//', `//${USER}:${encodeURIComponent(PASSWORD)}@`).replace(/\/$/, ''),
    ),
  writable: true,
  cleanup: stopConformanceStore,
  corrupt: async (store, id, bytes) => writeChunkFile(servers.get(store)!.dir, id, bytes),
  secrets: [PASSWORD, encodeURIComponent(PASSWORD), BASIC],
});

describeStoreConformance('HttpStore (uncompressed chunks)', {
  create: () => conformanceStore({}, (base) => base, { uncompressed: true }),
  writable: true,
  cleanup: stopConformanceStore,
});

describeStoreConformance('HttpStore (read-only server, bearer token)', {
  create: () =>
    conformanceStore({ readOnly: 405, authorization: TOKEN }, (base) => base, { httpAuth: TOKEN }),
  seed: async (chunks) => {
    const store = await conformanceStore({ readOnly: 405, authorization: TOKEN }, (base) => base, {
      httpAuth: TOKEN,
    });
    const { dir } = servers.get(store)!;
    for (const chunk of chunks) await writeChunkFile(dir, chunk.id, await chunk.compressedData());
    return store;
  },
  writable: false,
  cleanup: stopConformanceStore,
  corrupt: async (store, id, bytes) => writeChunkFile(servers.get(store)!.dir, id, bytes),
  secrets: [TOKEN],
});

describe('HttpStore', () => {
  it('requests <base>/<4 hex>/<id>.cacnk under the path prefix, with or without a trailing slash', async () => {
    const chunk = Chunk.fromPlain(randomBytes(1000));
    for (const trailing of ['/', '']) {
      const { dir, server, store } = await serve(
        { prefix: '/deep/store/' },
        { url: (base) => (trailing ? base : base.slice(0, -1)) },
      );
      await writeChunkFile(dir, chunk.id, await chunk.compressedData());
      await (await store.getChunk(chunk.id)).plainData();
      expect(await store.hasChunk(chunk.id)).toBe(true);
      const path = `/deep/store/${chunk.id.slice(0, 4)}/${chunk.id}.cacnk`;
      expect(server.requests).toEqual([`GET ${path}`, `HEAD ${path}`]);
      expect(store.toString()).toBe(server.url);
    }
  });

  it('storeChunk PUTs the zstd frame, which the server then holds', async () => {
    const { server, store } = await serve();
    const chunk = Chunk.fromPlain(randomBytes(5000));
    await store.storeChunk(chunk);
    expect(server.requests).toEqual([`PUT /${chunk.id.slice(0, 4)}/${chunk.id}.cacnk`]);
    const back = await store.getChunk(chunk.id);
    expect(Buffer.from(await back.plainData()).equals(await chunk.plainData())).toBe(true);
  });

  it.each([403, 405] as const)(
    'storeChunk on a read-only server (PUT answers %i) fails with a clear StoreError',
    async (status) => {
      const { server, store } = await serve({ readOnly: status });
      const chunk = Chunk.fromPlain(randomBytes(100));
      const err = await rejection(store.storeChunk(chunk));
      expect(err).toBeInstanceOf(StoreError);
      expect(err.message).toContain(`PUT ${server.url}${chunk.id.slice(0, 4)}/${chunk.id}.cacnk`);
      expect(err.message).toContain(`HTTP ${status}`);
      expect(err.message).toContain('does not accept writes');
      expect(err.message).not.toContain('\n');
      expect(server.requests).toHaveLength(1);
    },
  );

  it('a 404 is ChunkMissing at once, never retried', async () => {
    const { server, store } = await serve({}, { retries: 5 });
    const id = Chunk.fromPlain(randomBytes(10)).id;
    expect(await rejection(store.getChunk(id))).toBeInstanceOf(ChunkMissing);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a body that is not the chunk with ChunkInvalid when it is read', async () => {
    const codec = await loadCodec();
    const chunk = Chunk.fromPlain(randomBytes(3000));
    const wrong = codec.compress(randomBytes(3000));
    const { store } = await serve({
      intercept: (_req, res) => {
        res.writeHead(200, { 'content-length': wrong.length }).end(wrong);
        return true;
      },
    });
    const got = await store.getChunk(chunk.id);
    const err = await rejection(got.plainData());
    expect(err).toBeInstanceOf(ChunkInvalid);
    expect((err as ChunkInvalid).id).toBe(chunk.id);
    expect(err.message).toContain(store.toString());
  });

  it('drops an answer larger than any chunk as ChunkInvalid, without reading it', async () => {
    const { store } = await serve({
      intercept: (_req, res) => {
        res.writeHead(200, { 'content-length': 1 << 30 });
        res.write('x');
        return true;
      },
    });
    const id = Chunk.fromPlain(randomBytes(10)).id;
    const err = await rejection(store.getChunk(id));
    expect(err).toBeInstanceOf(ChunkInvalid);
    expect(err.message).toContain('larger than');
  });

  it('queued requests do not time out while waiting for a connection', async () => {
    const chunks = Array.from({ length: 6 }, () => Chunk.fromPlain(randomBytes(1000)));
    const { dir, store } = await serve(
      // Each answer takes 150 ms: on one connection the last of 6 requests waits 750 ms.
      { delayMs: 150 },
      { concurrency: 1, timeoutMs: 400, retries: 0 },
    );
    for (const chunk of chunks) await writeChunkFile(dir, chunk.id, await chunk.compressedData());
    await Promise.all(chunks.map(async (chunk) => (await store.getChunk(chunk.id)).plainData()));
  });

  it('rejects a user or password that is not valid percent-encoding, without quoting it', () => {
    const err = (() => {
      try {
        new HttpStore({ url: 'http://user:bad%zzsecret@host/' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(InvalidArgument);
    expect(err?.message).not.toContain('secret');
  });

  it('retries connections the server resets, and completes', async () => {
    const chunk = Chunk.fromPlain(randomBytes(2000));
    const { dir, server, store } = await serve({
      onConnection: (socket, n) => {
        if (n < 3) socket.resetAndDestroy();
      },
    });
    await writeChunkFile(dir, chunk.id, await chunk.compressedData());
    await (await store.getChunk(chunk.id)).plainData();
    expect(server.connections).toBe(4);
  });

  it('retries 503 answers with backoff, and completes', async () => {
    const chunk = Chunk.fromPlain(randomBytes(2000));
    const { dir, server, store } = await serve(
      {
        intercept: (_req, res, n) => {
          if (n >= 3) return false;
          res.writeHead(503).end('busy');
          return true;
        },
      },
      { retryDelayMs: 20 },
    );
    await writeChunkFile(dir, chunk.id, await chunk.compressedData());
    const started = Date.now();
    await (await store.getChunk(chunk.id)).plainData();
    expect(server.requests).toHaveLength(4);
    // 20 + 40 + 80 ms of backoff.
    expect(Date.now() - started).toBeGreaterThanOrEqual(130);
  });

  it('retries a PUT that met a 503', async () => {
    const { server, store } = await serve({
      intercept: (_req, res, n) => {
        if (n > 0) return false;
        res.writeHead(503).end();
        return true;
      },
    });
    const chunk = Chunk.fromPlain(randomBytes(2000));
    await store.storeChunk(chunk);
    expect(await store.hasChunk(chunk.id)).toBe(true);
    expect(server.requests.filter((r) => r.startsWith('PUT'))).toHaveLength(2);
  });

  it('fails after the retries against a server answering 500 forever, naming the URL and status', async () => {
    const { server, store } = await serve(
      {
        intercept: (_req, res) => {
          res.writeHead(500).end('broken');
          return true;
        },
      },
      { retries: 2 },
    );
    const id = Chunk.fromPlain(randomBytes(10)).id;
    const err = await rejection(store.getChunk(id));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toBe(
      `${server.url}: GET ${server.url}${id.slice(0, 4)}/${id}.cacnk: HTTP 500 Internal Server Error (3 attempts)`,
    );
    expect(server.requests).toHaveLength(3);
    expect(await rejection(store.hasChunk(id))).toBeInstanceOf(StoreError);
  });

  it('gives up a request that gets no answer within timeoutMs, and retries it', async () => {
    const chunk = Chunk.fromPlain(randomBytes(2000));
    const { dir, server, store } = await serve(
      {
        // The first request never gets an answer.
        intercept: (_req, _res, n) => n === 0,
      },
      { timeoutMs: 200 },
    );
    await writeChunkFile(dir, chunk.id, await chunk.compressedData());
    await (await store.getChunk(chunk.id)).plainData();
    expect(server.requests).toHaveLength(2);
  });

  it('a request that never gets an answer fails with a message naming the timeout', async () => {
    const { server, store } = await serve({ intercept: () => true }, { timeoutMs: 100, retries: 1 });
    const id = Chunk.fromPlain(randomBytes(10)).id;
    const err = await rejection(store.getChunk(id));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(`GET ${server.url}${id.slice(0, 4)}/${id}.cacnk`);
    expect(err.message).toContain('within 100 ms (2 attempts)');
  });

  it("aborting a get in flight rejects with the signal's reason, without retrying", async () => {
    const { server, store } = await serve({ intercept: () => true });
    const controller = new AbortController();
    const reason = new Error('stop');
    const get = store.getChunk(Chunk.fromPlain(randomBytes(10)).id, { signal: controller.signal });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(reason);
    expect(await rejection(get)).toBe(reason);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests).toHaveLength(1);
  });

  it('an abort during the backoff rejects with its reason', async () => {
    const { server, store } = await serve(
      {
        intercept: (_req, res) => {
          res.writeHead(503).end();
          return true;
        },
      },
      { retryDelayMs: 10_000 },
    );
    const controller = new AbortController();
    const reason = new Error('stop');
    const get = store.getChunk(Chunk.fromPlain(randomBytes(10)).id, { signal: controller.signal });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(reason);
    expect(await rejection(get)).toBe(reason);
  });

  it('without credentials a server that wants them gives a StoreError naming the 401', async () => {
    const { server, store } = await serve({ authorization: TOKEN });
    const id = Chunk.fromPlain(randomBytes(10)).id;
    const err = await rejection(store.getChunk(id));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(`GET ${server.url}`);
    expect(err.message).toContain('HTTP 401 Unauthorized');
    expect(err.message).toContain('--http-auth');
    expect(await rejection(store.hasChunk(id))).toBeInstanceOf(StoreError);
  });

  it('httpAuth takes precedence over a user and password in the URL', async () => {
    const chunk = Chunk.fromPlain(randomBytes(100));
    const { store } = await serve(
      { authorization: TOKEN },
      { httpAuth: TOKEN, url: (base) => base.replace('//', '//someone:wrong@') },
    );
    await store.storeChunk(chunk);
    expect(await store.hasChunk(chunk.id)).toBe(true);
    expect(store.toString()).not.toContain('wrong');
  });

  it('opens no more connections than concurrency', async () => {
    const chunks = Array.from({ length: 24 }, () => Chunk.fromPlain(randomBytes(20_000)));
    const { dir, server, store } = await serve({}, { concurrency: 3 });
    for (const chunk of chunks) await writeChunkFile(dir, chunk.id, await chunk.compressedData());
    await Promise.all(chunks.map(async (chunk) => (await store.getChunk(chunk.id)).plainData()));
    expect(server.connections).toBeGreaterThan(0);
    expect(server.connections).toBeLessThanOrEqual(3);
  });

  it('many reads sharing one signal add one listener to it (no MaxListenersExceededWarning)', async () => {
    const chunks = Array.from({ length: 30 }, () => Chunk.fromPlain(randomBytes(1000)));
    const { dir, store } = await serve({}, { concurrency: 30 });
    for (const chunk of chunks) await writeChunkFile(dir, chunk.id, await chunk.compressedData());
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const { signal } = new AbortController();
      await Promise.all(
        chunks.map(async (chunk) => (await store.getChunk(chunk.id, { signal })).plainData()),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('fails with StoreError after close()', async () => {
    const { store } = await serve();
    await store.close();
    const err = await rejection(store.hasChunk(Chunk.fromPlain(randomBytes(10)).id));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain('closed');
  });

  it('a refused connection fails naming the URL after the retries', async () => {
    const { server, store } = await serve({}, { retries: 1 });
    await server.close();
    const err = await rejection(store.hasChunk(Chunk.fromPlain(randomBytes(10)).id));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(`HEAD ${server.url}`);
    expect(err.message).toContain('connection refused (2 attempts)');
  });

  it('rejects locations and options that cannot work', () => {
    expect(() => new HttpStore({ url: 'ftp://host/store' })).toThrow(InvalidArgument);
    expect(() => new HttpStore({ url: 'not a url' })).toThrow(InvalidArgument);
    expect(() => new HttpStore({ url: 'http://host/', concurrency: 0 })).toThrow(InvalidArgument);
    expect(() => new HttpStore({ url: 'http://host/', retries: -1 })).toThrow(InvalidArgument);
    expect(() => new HttpStore({ url: 'https://host/', caCert: '/nonexistent/ca.pem' })).toThrow(FileError);
    expect(() => new HttpStore({ url: 'https://host/', clientKey: '/some/key.pem' })).toThrow(
      InvalidArgument,
    );
    expect(() => new HttpStore({ url: 'http://host/' }).chunkUrl('../etc' as ChunkId)).toThrow(
      InvalidArgument,
    );
  });

  it('toString() strips user and password from the URL', () => {
    const store = new HttpStore({ url: 'https://user:secret@example.com:8443/store?x=1' });
    expect(store.toString()).toBe('https://example.com:8443/store/');
  });
});

describe('httpStoreScheme', () => {
  it('handles http:// and https:// locations only', () => {
    expect(httpStoreScheme.matches('http://host/store')).toBe(true);
    expect(httpStoreScheme.matches('HTTPS://host/store')).toBe(true);
    for (const other of [
      '/srv/store',
      'store',
      's3+https://host/bucket',
      'ssh://host/store',
      'host:/store',
    ]) {
      expect(httpStoreScheme.matches(other)).toBe(false);
    }
  });

  it('opens an HttpStore with the StoreOpenOptions', async () => {
    const dir = await makeTempDir('desync-store-http-');
    const server = await startChunkStoreServer({
      dir,
      authorization: TOKEN,
      intercept: (_req, res) => {
        res.writeHead(502).end();
        return true;
      },
    });
    cleanups.push(async () => {
      await server.close();
      await removeTempDir(dir);
    });
    const store = await httpStoreScheme.open(server.url, { retries: 0, httpAuth: TOKEN, concurrency: 2 });
    cleanups.push(() => store.close());
    expect(store).toBeInstanceOf(HttpStore);
    const err = await rejection(store.hasChunk(Chunk.fromPlain(randomBytes(10)).id));
    expect(err.message).toContain('HTTP 502 Bad Gateway');
    expect(server.requests).toHaveLength(1);
  });
});
