import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Chunk, type ChunkId, loadCodec, type Store, StoreError, zstdFrameLength } from '@desync/core';
import { LocalStore } from '@desync/store-local';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChunkServer } from '../src/index.js';

const text = (s: string) => new TextEncoder().encode(s);
const chunkUrl = (id: string) => `/${id.slice(0, 4)}/${id}.cacnk`;

let dir: string;
let store: LocalStore;
let chunk: Chunk;

beforeEach(async () => {
  dir = await makeTempDir('chunk-server-');
  store = new LocalStore({ path: dir });
  chunk = Chunk.fromPlain(text('hello chunk server'));
  await store.storeChunk(chunk);
});

afterEach(async () => {
  await removeTempDir(dir);
});

async function frameOf(plain: Uint8Array): Promise<Uint8Array> {
  return (await loadCodec()).compress(plain);
}

async function decompress(body: ArrayBuffer): Promise<Uint8Array> {
  return (await loadCodec()).decompress(new Uint8Array(body), 1 << 20);
}

describe('GET and HEAD', () => {
  it('serves the compressed chunk with its length', async () => {
    const app = createChunkServer(store);
    const res = await app.request(chunkUrl(chunk.id));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const body = await res.arrayBuffer();
    expect(res.headers.get('content-length')).toBe(String(body.byteLength));
    expect(Buffer.from(await decompress(body)).toString()).toBe('hello chunk server');
  });

  it('answers 404 for a chunk the store lacks', async () => {
    const app = createChunkServer(store);
    const missing = Chunk.fromPlain(text('not stored')).id;
    expect((await app.request(chunkUrl(missing))).status).toBe(404);
    expect((await app.request(chunkUrl(missing), { method: 'HEAD' })).status).toBe(404);
  });

  it('answers HEAD with 200 and no body', async () => {
    const app = createChunkServer(store);
    const res = await app.request(chunkUrl(chunk.id), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('answers 502 for a corrupt chunk in the store, without naming the store', async () => {
    const bad = Chunk.fromPlain(text('will be corrupted')).id;
    await mkdir(dirname(store.chunkPath(bad)), { recursive: true });
    await writeFile(store.chunkPath(bad), await frameOf(text('something else')));
    const errors: unknown[] = [];
    const app = createChunkServer(store, { onError: (err) => errors.push(err) });
    const res = await app.request(chunkUrl(bad));
    expect(res.status).toBe(502);
    const body = await res.text();
    expect(body).not.toContain(dir);
    expect(body).not.toContain(bad);
    expect(errors).toHaveLength(1);
  });

  it('answers 502 with a fixed text when the backend reports a StoreError', async () => {
    const failing: Store = {
      getChunk: () => Promise.reject(new StoreError(`http://user@host${dir}`, 'connection refused')),
      hasChunk: () => Promise.resolve(true),
      close: async () => {},
      toString: () => dir,
    };
    const app = createChunkServer(failing, { onError: () => {} });
    const res = await app.request(chunkUrl(chunk.id));
    expect(res.status).toBe(502);
    expect(await res.text()).toBe('backing store failed');
  });

  it('answers 500 with a fixed text when the backend fails unexpectedly', async () => {
    const failing: Store = {
      getChunk: () => Promise.reject(new Error(`EIO reading ${dir}/secret`)),
      hasChunk: () => Promise.reject(new Error('boom')),
      close: async () => {},
      toString: () => dir,
    };
    const app = createChunkServer(failing, { onError: () => {} });
    const res = await app.request(chunkUrl(chunk.id));
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('internal error');
  });
});

describe('paths', () => {
  const bad = [
    '/',
    '/index.html',
    '/../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/abcd/..%2f..%2fetc%2fpasswd.cacnk',
    '/abcd/%2e%2e/x.cacnk',
  ];
  it.each(bad)('answers 400 for %s', async (path) => {
    const app = createChunkServer(store);
    const res = await app.request(path);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain(dir);
  });

  it('answers 400 for uppercase hex, a wrong prefix, a missing suffix or extra parts', async () => {
    const app = createChunkServer(store);
    const id = chunk.id;
    const paths = [
      chunkUrl(id.toUpperCase()),
      `/${id.slice(0, 4)}/${id.toUpperCase()}.cacnk`,
      `/${id.startsWith('0000') ? 'ffff' : '0000'}/${id}.cacnk`,
      `/${id.slice(0, 4)}/${id}`,
      `/${id.slice(0, 4)}/${id}.cacnk/x`,
      `/x/${id.slice(0, 4)}/${id}.cacnk`,
      `/${id.slice(0, 3)}/${id}.cacnk`,
      `/${id.slice(0, 4)}/${id.slice(0, 63)}.cacnk`,
    ];
    for (const path of paths) expect((await app.request(path)).status, path).toBe(400);
  });
});

describe('methods', () => {
  it('answers 405 with Allow for PUT, POST and DELETE when read-only', async () => {
    const app = createChunkServer(store);
    for (const method of ['PUT', 'POST', 'DELETE']) {
      const res = await app.request(chunkUrl(chunk.id), { method, body: method === 'DELETE' ? null : 'x' });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('refuses to be writable over a store that cannot be written', () => {
    const readOnly: Store = {
      getChunk: (id) => store.getChunk(id),
      hasChunk: (id) => store.hasChunk(id),
      close: async () => {},
      toString: () => 'read-only',
    };
    expect(() => createChunkServer(readOnly, { writable: true })).toThrow(/cannot be written/);
  });
});

describe('writable', () => {
  async function put(app: ReturnType<typeof createChunkServer>, id: string, body: Uint8Array) {
    return app.request(chunkUrl(id), { method: 'PUT', body: body as Uint8Array<ArrayBuffer> });
  }

  it('stores an upload whose content hashes to its id', async () => {
    const app = createChunkServer(store, { writable: true });
    const plain = text('uploaded chunk');
    const id = Chunk.fromPlain(plain).id;
    const res = await put(app, id, await frameOf(plain));
    expect(res.status).toBe(200);
    const back = await store.getChunk(id);
    expect(Buffer.from(await back.plainData()).toString()).toBe('uploaded chunk');
    // Idempotent: the same upload again is fine.
    expect((await put(app, id, await frameOf(plain))).status).toBe(200);
  });

  it('never stores an upload of two frames as it came (casync reads one frame only)', async () => {
    const app = createChunkServer(store, { writable: true });
    const plain = text('split across two frames');
    const id = Chunk.fromPlain(plain).id;
    const first = await frameOf(plain.subarray(0, 5));
    const twoFrames = Buffer.concat([first, await frameOf(plain.subarray(5))]);
    const status = (await put(app, id, twoFrames)).status;
    expect([200, 400]).toContain(status);
    if (status === 200) {
      const stored = await readFile(store.chunkPath(id));
      expect(zstdFrameLength(stored)).toBe(stored.length);
    } else {
      expect(await store.hasChunk(id)).toBe(false);
    }
  });

  it('writes into writeStore when one is given', async () => {
    const other = await makeTempDir('chunk-server-w-');
    try {
      const writeStore = new LocalStore({ path: other });
      const app = createChunkServer(store, { writable: true, writeStore });
      const plain = text('goes elsewhere');
      const id = Chunk.fromPlain(plain).id;
      expect((await put(app, id, await frameOf(plain))).status).toBe(200);
      expect(await writeStore.hasChunk(id)).toBe(true);
      expect(await store.hasChunk(id)).toBe(false);
    } finally {
      await removeTempDir(other);
    }
  });

  it('rejects an upload whose content hashes to another id', async () => {
    const app = createChunkServer(store, { writable: true });
    const id = Chunk.fromPlain(text('claimed')).id as ChunkId;
    const res = await put(app, id, await frameOf(text('actual')));
    expect(res.status).toBe(400);
    expect(await store.hasChunk(id)).toBe(false);
  });

  it('rejects an upload that is not a zstd frame', async () => {
    const app = createChunkServer(store, { writable: true });
    const id = Chunk.fromPlain(text('claimed')).id;
    expect((await put(app, id, text('not zstd at all'))).status).toBe(400);
    expect((await put(app, id, new Uint8Array(0))).status).toBe(400);
    expect(await store.hasChunk(id)).toBe(false);
  });

  it('answers 413 for an upload over maxUploadBytes', async () => {
    const app = createChunkServer(store, { writable: true, maxUploadBytes: 1024 });
    const plain = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    const id = Chunk.fromPlain(plain).id;
    // A declared length over the limit, and a streamed body that grows past it.
    expect((await put(app, id, new Uint8Array(2048))).status).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(512));
        controller.close();
      },
    });
    const res = await app.request(chunkUrl(id), {
      method: 'PUT',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await store.hasChunk(id)).toBe(false);
  });

  it('accepts a 16 MiB chunk by default and answers 413 beyond it', async () => {
    const app = createChunkServer(store, { writable: true });
    const id = Chunk.fromPlain(text('big')).id;
    expect((await put(app, id, new Uint8Array(17 << 20))).status).toBe(413);
  });
});

describe('auth', () => {
  const token = 's3cret-token';
  const basic = (pair: string) => `Basic ${Buffer.from(pair).toString('base64')}`;

  it('accepts Bearer and Basic with the token as password or user:password', async () => {
    const app = createChunkServer(store, { auth: token });
    for (const authorization of [`Bearer ${token}`, `bearer ${token}`, basic(`any:${token}`), basic(token)]) {
      const res = await app.request(chunkUrl(chunk.id), { headers: { authorization } });
      expect(res.status, authorization).toBe(200);
    }
  });

  it('answers 401 with a challenge for missing or wrong credentials', async () => {
    const app = createChunkServer(store, { auth: token });
    const headers: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${token}x` },
      { authorization: basic('user:wrong') },
      { authorization: `Token ${token}` },
      { authorization: token },
    ];
    for (const h of headers) {
      const res = await app.request(chunkUrl(chunk.id), { headers: h });
      expect(res.status, JSON.stringify(h)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/Bearer realm="desync"/);
    }
  });

  it('checks credentials before the path, so nothing is learned without them', async () => {
    const app = createChunkServer(store, { auth: token });
    expect((await app.request('/../etc/passwd')).status).toBe(401);
  });
});

describe('request log', () => {
  it('writes one line per request: method, path, status, bytes, ms', async () => {
    const lines: string[] = [];
    const app = createChunkServer(store, { log: (line) => lines.push(line) });
    await app.request(chunkUrl(chunk.id));
    await app.request('/nope');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^GET ${chunkUrl(chunk.id)} 200 \\d+ \\d+ms$`));
    expect(lines[1]).toMatch(/^GET \/nope 400 \d+ \d+ms$/);
  });
});
