import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import { join } from 'node:path';
import { Chunk, type ChunkId, InvalidArgument, type Store } from '@desync/core';
import { LocalStore } from '@desync/store-local';
import {
  findCasync,
  makeTempDir,
  removeTempDir,
  requirePeer,
  runCasync,
  writeMixedFile,
} from '@desync/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChunkServer, type RunningChunkServer, startChunkServer } from '../src/index.js';
import { request } from './http-client.js';
import { makeTestCertificates, type TestCertificates } from './tls-fixtures.js';

const casync = requirePeer('casync', findCasync());
const chunkPath = (id: string) => `/${id.slice(0, 4)}/${id}.cacnk`;

let dir: string;
let store: LocalStore;
let chunk: Chunk;
let running: RunningChunkServer | undefined;

beforeAll(async () => {
  dir = await makeTempDir('chunk-server-real-');
  store = new LocalStore({ path: join(dir, 'store') });
  chunk = Chunk.fromPlain(new TextEncoder().encode('served over a socket'));
  await store.storeChunk(chunk);
});

afterEach(async () => {
  await running?.close();
  running = undefined;
});

afterAll(async () => {
  await removeTempDir(dir);
});

async function serve(options: Partial<Parameters<typeof startChunkServer>[0]> = {}, served: Store = store) {
  running = await startChunkServer({ app: createChunkServer(served), listen: ['127.0.0.1:0'], ...options });
  return running;
}

describe.skipIf(!casync)('casync reading from the server', () => {
  it('extracts a blob byte for byte with casync extract --store=http://…', async () => {
    const input = join(dir, 'input.bin');
    const index = join(dir, 'input.caibx');
    const output = join(dir, 'output.bin');
    const casyncStore = join(dir, 'casync-store');
    await writeMixedFile(input, 3 << 20, 7);
    await runCasync(['make', `--store=${casyncStore}`, index, input], { casync });
    const server = await serve({}, new LocalStore({ path: casyncStore }));
    await runCasync(['extract', `--store=${server.urls[0]}`, index, output], { casync });
    expect((await readFile(output)).equals(await readFile(input))).toBe(true);
  });

  it('accepts the token as the password of a store URL (curl sends Basic)', async () => {
    const index = join(dir, 'auth.caibx');
    const output = join(dir, 'auth-output.bin');
    const input = join(dir, 'auth-input.bin');
    const casyncStore = join(dir, 'casync-store');
    await writeMixedFile(input, 256 << 10, 8);
    await runCasync(['make', `--store=${casyncStore}`, index, input], { casync });
    const served = new LocalStore({ path: casyncStore });
    running = await startChunkServer({
      app: createChunkServer(served, { auth: 'tok3n' }),
      listen: ['127.0.0.1:0'],
    });
    const url = new URL(running.urls[0]);
    await expect(runCasync(['extract', `--store=${url.href}`, index, output], { casync })).rejects.toThrow();
    url.username = 'desync';
    url.password = 'tok3n';
    await runCasync(['extract', `--store=${url.href}`, index, output], { casync });
    expect((await readFile(output)).equals(await readFile(input))).toBe(true);
  });
});

describe('plain HTTP', () => {
  it('reports the bound port in its URL and serves chunks there', async () => {
    const server = await serve();
    expect(server.urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.addresses[0].port).toBeGreaterThan(0);
    const res = await request(new URL(chunkPath(chunk.id), server.urls[0]).href);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(res.body.length));
  });

  it('answers 400 to raw traversal paths that no client normalised', async () => {
    const server = await serve();
    for (const path of [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      `/${chunk.id.slice(0, 4)}/../../x.cacnk`,
      '//etc/passwd',
    ]) {
      const res = await request(server.urls[0], { path });
      expect(res.status, path).toBe(400);
      expect(res.body.toString()).not.toContain(dir);
    }
  });

  it('serves many concurrent clients over few keep-alive connections', async () => {
    const server = await serve();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const url = new URL(chunkPath(chunk.id), server.urls[0]).href;
    const replies = await Promise.all(Array.from({ length: 200 }, () => request(url, { agent })));
    expect(replies.every((r) => r.status === 200 && r.body.length > 0)).toBe(true);
    agent.destroy();
  });

  it('listens on several addresses at once', async () => {
    const server = await serve({ listen: ['127.0.0.1:0', '127.0.0.1:0'] });
    expect(server.urls).toHaveLength(2);
    for (const url of server.urls)
      expect((await request(new URL(chunkPath(chunk.id), url).href)).status).toBe(200);
  });

  it('rejects a port in use with InvalidArgument and leaves nothing listening', async () => {
    const first = await serve();
    const taken = `127.0.0.1:${first.addresses[0].port}`;
    await expect(
      startChunkServer({ app: createChunkServer(store), listen: ['127.0.0.1:0', taken] }),
    ).rejects.toThrow(InvalidArgument);
  });

  it('closes idle keep-alive connections at once and finishes in-flight requests', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: Store = {
      getChunk: async (id: ChunkId) => {
        await gate;
        return store.getChunk(id);
      },
      hasChunk: (id) => store.hasChunk(id),
      close: async () => {},
      toString: () => 'slow',
    };
    const server = await serve({ keepAliveTimeoutMs: 60_000 }, slow);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const url = new URL(chunkPath(chunk.id), server.urls[0]).href;
    // One finished request leaves an idle keep-alive socket; a second one is held open.
    const idle = request(url, { agent, method: 'HEAD' });
    expect((await idle).status).toBe(200);
    const inFlight = request(url, { agent });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const closed = server.close();
    // New connections are refused while the held request still runs.
    await expect(request(url)).rejects.toThrow();
    release();
    expect((await inFlight).status).toBe(200);
    await closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    agent.destroy();
  });
});

describe('HTTPS', () => {
  let certs: TestCertificates;
  beforeAll(() => {
    certs = makeTestCertificates(dir);
  });

  it('serves chunks over TLS with the given certificate', async () => {
    const server = await serve({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    expect(server.urls[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const ca = await readFile(certs.caCert);
    const res = await request(new URL(chunkPath(chunk.id), server.urls[0]).href, { ca });
    expect(res.status).toBe(200);
    await expect(request(server.urls[0])).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });

  it('requires a client certificate from --client-ca with mutual TLS', async () => {
    const server = await serve({
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.caCert },
    });
    const url = new URL(chunkPath(chunk.id), server.urls[0]).href;
    const ca = await readFile(certs.caCert);
    const cert = await readFile(certs.clientCert);
    const key = await readFile(certs.clientKey);
    expect((await request(url, { ca, cert, key })).status).toBe(200);
    await expect(request(url, { ca })).rejects.toThrow();
    const stranger = { ca, cert: await readFile(certs.strangerCert), key: await readFile(certs.strangerKey) };
    await expect(request(url, stranger)).rejects.toThrow();
  });

  it('fails with FileError naming a missing certificate file', async () => {
    await expect(
      startChunkServer({
        app: createChunkServer(store),
        listen: ['127.0.0.1:0'],
        tls: { certFile: join(dir, 'nope.pem'), keyFile: certs.serverKey },
      }),
    ).rejects.toMatchObject({ code: 'FILE_ERROR' });
  });
});
