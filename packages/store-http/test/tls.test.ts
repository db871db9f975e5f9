import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Chunk, StoreError } from '@desync/core';
import { type Certificate, makeSelfSignedCertificate, makeTempDir, removeTempDir } from '@desync/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpStore, type HttpStoreOptions } from '../src/index.js';
import {
  type ChunkStoreServer,
  type ChunkStoreServerOptions,
  startChunkStoreServer,
} from './chunk-store-server.js';

let dir: string;
let serverCert: Certificate;
let clientCert: Certificate;
const chunk = Chunk.fromPlain(randomBytes(10_000));
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await makeTempDir('desync-store-http-tls-');
  serverCert = await makeSelfSignedCertificate(dir, 'server');
  clientCert = await makeSelfSignedCertificate(dir, 'client');
  const store = join(dir, 'store');
  await mkdir(join(store, chunk.id.slice(0, 4)), { recursive: true });
  await writeFile(join(store, chunk.id.slice(0, 4), `${chunk.id}.cacnk`), await chunk.compressedData());
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await removeTempDir(dir);
});

async function serveTls(options: Partial<ChunkStoreServerOptions> = {}): Promise<ChunkStoreServer> {
  const server = await startChunkStoreServer({
    dir: join(dir, 'store'),
    tls: { key: serverCert.key, cert: serverCert.cert },
    ...options,
  });
  cleanups.push(server.close);
  return server;
}

function open(url: string, options: Omit<HttpStoreOptions, 'url'> = {}): HttpStore {
  const store = new HttpStore({ retryDelayMs: 1, ...options, url });
  cleanups.push(() => store.close());
  return store;
}

async function readBack(store: HttpStore): Promise<void> {
  const got = await store.getChunk(chunk.id);
  expect(Buffer.from(await got.plainData()).equals(await chunk.plainData())).toBe(true);
  expect(await store.hasChunk(chunk.id)).toBe(true);
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err as Error,
  );
}

describe('HttpStore over HTTPS', () => {
  it('refuses a self-signed server certificate by default, with a message saying what to do', async () => {
    const server = await serveTls();
    const store = open(server.url);
    const err = await rejection(store.getChunk(chunk.id));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(`GET ${server.url}${chunk.id.slice(0, 4)}/${chunk.id}.cacnk`);
    expect(err.message).toContain('not trusted');
    expect(err.message).toContain('--ca-cert');
    expect(err.message).toContain('-t');
    expect(err.message).not.toContain('\n');
    // A certificate problem does not go away by asking again.
    expect(server.connections).toBe(1);
  });

  it('reads from a server with a self-signed certificate when insecure', async () => {
    const server = await serveTls();
    await readBack(open(server.url, { insecure: true }));
  });

  it('reads from a server whose certificate is in caCert', async () => {
    const server = await serveTls();
    await readBack(open(server.url, { caCert: serverCert.certFile }));
  });

  it('writes over HTTPS', async () => {
    const server = await serveTls();
    const store = open(server.url, { caCert: serverCert.certFile });
    const fresh = Chunk.fromPlain(randomBytes(3000));
    await store.storeChunk(fresh);
    expect(await store.hasChunk(fresh.id)).toBe(true);
  });

  describe('mutual TLS', () => {
    const mutual = (): Partial<ChunkStoreServerOptions> => ({
      tls: {
        key: serverCert.key,
        cert: serverCert.cert,
        requestCert: true,
        rejectUnauthorized: true,
        ca: clientCert.cert,
      },
    });

    it('without a client certificate fails with a message asking for one', async () => {
      const server = await serveTls(mutual());
      const store = open(server.url, { caCert: serverCert.certFile, retries: 1 });
      const err = await rejection(store.getChunk(chunk.id));
      expect(err).toBeInstanceOf(StoreError);
      expect(err.message).toContain(`GET ${server.url}`);
      expect(err.message).toContain('client certificate');
      expect(err.message).toContain('--client-cert');
      expect(err.message).not.toContain('\n');
    });

    it('with clientCert and clientKey reads and writes', async () => {
      const server = await serveTls(mutual());
      const store = open(server.url, {
        caCert: serverCert.certFile,
        clientCert: clientCert.certFile,
        clientKey: clientCert.keyFile,
      });
      await readBack(store);
      await store.storeChunk(Chunk.fromPlain(randomBytes(100)));
    });

    it('takes the key from the clientCert file when it holds both', async () => {
      const both = join(dir, 'client-both.pem');
      await writeFile(both, clientCert.cert + clientCert.key);
      const server = await serveTls(mutual());
      await readBack(open(server.url, { insecure: true, clientCert: both }));
    });

    it('a client certificate the server does not trust is refused', async () => {
      const server = await serveTls(mutual());
      const store = open(server.url, {
        insecure: true,
        clientCert: serverCert.certFile,
        clientKey: serverCert.keyFile,
        retries: 0,
      });
      const err = await rejection(store.hasChunk(chunk.id));
      expect(err).toBeInstanceOf(StoreError);
      expect(err.message).toContain(`HEAD ${server.url}`);
    });
  });
});
