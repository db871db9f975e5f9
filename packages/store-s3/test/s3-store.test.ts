import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  Chunk,
  type ChunkId,
  ChunkMissing,
  digestChunk,
  FileError,
  InvalidArgument,
  loadCodec,
  StoreError,
} from '@desync/core';
import { describeStoreConformance } from '@desync/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store, type S3StoreOptions, s3StoreScheme } from '../src/index.js';
import { parseS3Location } from '../src/s3-location.js';
import { S3RVER_CREDENTIALS, type S3rverHarness, startS3rver } from './s3rver-harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let s3: S3rverHarness;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});

function openStore(url: string, options?: Omit<S3StoreOptions, 'url'>): S3Store {
  return new S3Store({ url, credentials: S3RVER_CREDENTIALS, ...options });
}

async function listAll(store: S3Store): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of store.listChunks()) ids.push(id);
  return ids.sort();
}

async function objectKeys(bucket: string): Promise<string[]> {
  const res = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (res.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

/** Runs `fn` with environment variables set (undefined: unset), then restores them. */
async function withEnv(vars: Record<string, string | undefined>, fn: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    await fn();
  } finally {
    apply(saved);
  }
}

/** Puts keys that are not chunks beside and around real chunk keys, under `prefix`. */
async function addNonChunkEntries(store: S3Store): Promise<void> {
  // A prefix with a letter, so its uppercase form differs, and not ffff, so the misplaced
  // copy below really is misplaced.
  let id = digestChunk(randomBytes(8));
  while (!/[a-f]/.test(id.slice(0, 4)) || id.startsWith('ffff')) id = digestChunk(randomBytes(8));
  const dir = id.slice(0, 4);
  const p = store.prefix;
  const keys = [
    `${p}README`,
    `${p}${id}.cacnk`,
    `${p}zzzz/${id}.cacnk`,
    `${p}${dir.toUpperCase()}/${id}.cacnk`,
    `${p}${dir}0/${id}.cacnk`,
    `${p}${dir}/.${id}.cacnk.4242.0123456789ab.tmp`,
    `${p}${dir}/${id}.cacnk.tmp`,
    `${p}${dir}/${id.toUpperCase()}.cacnk`,
    `${p}${dir}/${id.slice(1)}.cacnk`,
    `${p}${dir}/ffff${id.slice(4)}.cacnk`,
    `${p}${dir}/${id}`,
    `${p}${dir}/${id}.cacnk/`,
    `${p}nested/${dir}/${id}.cacnk`,
    // Outside the store's prefix: a sibling store in the same bucket.
    `other-${p}${dir}/${id}.cacnk`,
  ];
  await Promise.all(keys.map((key) => s3.putObject(store.bucket, key, 'not a chunk')));
}

describeStoreConformance<S3Store>('S3Store (bucket root)', {
  create: async () => openStore(`s3+${s3.endpoint}/${await s3.createBucket()}`),
  writable: true,
  corrupt: (store, id, bytes) => s3.putObject(store.bucket, store.chunkKey(id), bytes),
  addNonChunkEntries,
  secrets: [S3RVER_CREDENTIALS.secretAccessKey],
});

describeStoreConformance<S3Store>('S3Store (uncompressed chunks)', {
  create: async () => openStore(`s3+${s3.endpoint}/${await s3.createBucket()}`, { uncompressed: true }),
  writable: true,
  corrupt: (store, id, bytes) => s3.putObject(store.bucket, store.chunkKey(id), bytes),
});

let shared: Promise<string> | undefined;
/** One bucket for the prefix tests, created on first use. */
function sharedBucket(): Promise<string> {
  shared ??= s3.createBucket();
  return shared;
}

describeStoreConformance<S3Store>('S3Store (under a prefix)', {
  // One bucket, a fresh prefix per store: an empty store with sibling stores beside it.
  create: async () =>
    openStore(`s3+${s3.endpoint}/${await sharedBucket()}/${randomBytes(4).toString('hex')}/store`),
  writable: true,
  minimalData: true,
  corrupt: (store, id, bytes) => s3.putObject(store.bucket, store.chunkKey(id), bytes),
  addNonChunkEntries,
});

describe('S3Store layout', () => {
  it("stores a chunk at <4 hex>/<id>.cacnk as a zstd frame, desync's and casync's layout", async () => {
    const bucket = await s3.createBucket();
    const store = openStore(`s3+${s3.endpoint}/${bucket}`);
    const plain = randomBytes(100 * KiB);
    const chunk = Chunk.fromPlain(plain);
    await store.storeChunk(chunk);
    const key = `${chunk.id.slice(0, 4)}/${chunk.id}.cacnk`;
    expect(await objectKeys(bucket)).toEqual([key]);
    expect(store.chunkKey(chunk.id)).toBe(key);
    const res = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const frame = await res.Body!.transformToByteArray();
    const codec = await loadCodec();
    expect(Buffer.from(codec.decompress(frame, MiB)).equals(plain)).toBe(true);
    await store.close();
  });

  it('puts chunks under the prefix the URL names, and lists only those', async () => {
    const bucket = await s3.createBucket();
    const store = openStore(`s3+${s3.endpoint}/${bucket}/a/b`);
    const other = openStore(`s3+${s3.endpoint}/${bucket}/a`);
    const chunk = Chunk.fromPlain(randomBytes(1000));
    await store.storeChunk(chunk);
    expect(store.prefix).toBe('a/b/');
    expect(await objectKeys(bucket)).toEqual([`a/b/${chunk.id.slice(0, 4)}/${chunk.id}.cacnk`]);
    expect(await listAll(other)).toEqual([]);
    expect(await other.hasChunk(chunk.id)).toBe(false);
    await Promise.all([store.close(), other.close()]);
  });

  it('does not upload a chunk whose object exists already', async () => {
    const bucket = await s3.createBucket();
    const store = openStore(`s3+${s3.endpoint}/${bucket}`);
    const chunk = Chunk.fromPlain(randomBytes(1000));
    // Whatever is there stays: storeChunk only asks with HEAD.
    await s3.putObject(bucket, store.chunkKey(chunk.id), 'placeholder');
    await store.storeChunk(chunk);
    const res = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: store.chunkKey(chunk.id) }));
    expect(await res.Body!.transformToString()).toBe('placeholder');
    await store.close();
  });

  it('lists every chunk of a store larger than one ListObjectsV2 page (1000 keys)', async () => {
    const bucket = await s3.createBucket();
    const store = openStore(`s3+${s3.endpoint}/${bucket}/big`);
    const ids = Array.from({ length: 1010 }, (_, i) => digestChunk(Buffer.from(`chunk ${i}`)));
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map((id) => s3.putObject(bucket, store.chunkKey(id), 'x')));
    }
    expect(await listAll(store)).toEqual([...ids].sort());
    await store.close();
  });

  it('removes a chunk deleted behind its back as ChunkMissing', async () => {
    const bucket = await s3.createBucket();
    const store = openStore(`s3+${s3.endpoint}/${bucket}`);
    const chunk = Chunk.fromPlain(randomBytes(1000));
    await store.storeChunk(chunk);
    await s3.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: store.chunkKey(chunk.id) }));
    expect(await rejection(store.removeChunk(chunk.id))).toBeInstanceOf(ChunkMissing);
    await store.close();
  });

  it('refuses an id that is not a chunk id, so no other key is touched', async () => {
    const store = openStore(`s3+${s3.endpoint}/bucket`);
    for (const id of ['../x', 'ABCD'.repeat(16), `${'a'.repeat(63)}/`] as ChunkId[]) {
      expect(await rejection(store.getChunk(id))).toBeInstanceOf(InvalidArgument);
      expect(await rejection(store.hasChunk(id))).toBeInstanceOf(InvalidArgument);
      expect(await rejection(store.removeChunk(id))).toBeInstanceOf(InvalidArgument);
    }
    await store.close();
  });
});

describe('S3Store failures', () => {
  const id = digestChunk(Buffer.from('some chunk'));

  it('reports rejected credentials as one StoreError line naming the URL, never the secret', async () => {
    const bucket = await s3.createBucket();
    const url = `s3+${s3.endpoint}/${bucket}`;
    const secret = 'very-secret-key-1234';
    // s3rver checks the access key id but not the signature, so a wrong secret alone passes there.
    {
      const store = new S3Store({
        url,
        credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: secret },
        retries: 0,
      });
      const failures = [
        rejection(store.getChunk(id)),
        rejection(store.hasChunk(id)),
        rejection(store.storeChunk(Chunk.fromPlain(Buffer.from('x')))),
        rejection(listAll(store)),
      ];
      for (const err of (await Promise.all(failures)) as StoreError[]) {
        expect(err).toBeInstanceOf(StoreError);
        expect(err.message).toContain(url);
        expect(err.message).toContain('credentials rejected');
        expect(err.message).not.toContain(secret);
        expect(err.message).not.toContain('\n');
      }
      await store.close();
    }
  });

  it('reports a bucket that does not exist', async () => {
    const url = `s3+${s3.endpoint}/no-such-bucket`;
    const store = openStore(url, { retries: 0 });
    for (const err of [
      await rejection(store.getChunk(id)),
      await rejection(listAll(store)),
      await rejection(store.storeChunk(Chunk.fromPlain(Buffer.from('x')))),
    ] as StoreError[]) {
      expect(err).toBeInstanceOf(StoreError);
      expect(err.message).toBe(`${url}: bucket 'no-such-bucket' does not exist; create it or check the URL`);
    }
    await store.close();
  });

  it('reports a refused connection, naming the URL', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const url = `s3+http://127.0.0.1:${port}/bucket`;
    const store = openStore(url, { retries: 1 });
    const err = (await rejection(store.getChunk(id))) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(url);
    expect(err.message).toContain('connection refused');
    await store.close();
  });

  it('gives up on a server that never answers after timeoutMs, saying so', async () => {
    const silent = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `s3+http://127.0.0.1:${(silent.address() as AddressInfo).port}/bucket`;
    const store = openStore(url, { retries: 0, timeoutMs: 300 });
    try {
      const started = Date.now();
      const err = (await rejection(store.hasChunk(id))) as StoreError;
      expect(err).toBeInstanceOf(StoreError);
      expect(err.message).toContain(url);
      expect(err.message).toContain('timed out');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await store.close();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('asks for both keys when only one of S3_ACCESS_KEY and S3_SECRET_KEY is set', async () => {
    await withEnv({ S3_ACCESS_KEY: 'AKIA', S3_SECRET_KEY: undefined }, async () => {
      expect(() => new S3Store({ url: 's3+http://127.0.0.1:1/bucket' })).toThrow(/S3_SECRET_KEY is not set/);
    });
    await withEnv({ S3_ACCESS_KEY: undefined, S3_SECRET_KEY: 'secret' }, async () => {
      expect(() => new S3Store({ url: 's3+http://127.0.0.1:1/bucket' })).toThrow(/S3_ACCESS_KEY is not set/);
    });
  });
});

describe('S3Store reading a body cut short', () => {
  let server: Server;
  let requests = 0;
  let cutShort = 0;
  const chunk = Chunk.fromPlain(randomBytes(64 * KiB));

  beforeAll(async () => {
    const frame = Buffer.from(await chunk.compressedData());
    // A server that sends half the body it announces, then drops the connection, `cutShort`
    // times before answering properly: the S3 store must read again.
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-length': frame.length, 'content-type': 'application/octet-stream' });
      if (cutShort > 0) {
        cutShort--;
        res.write(frame.subarray(0, frame.length >> 1), () => res.destroy());
      } else {
        res.end(frame);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const url = () => `s3+http://127.0.0.1:${(server.address() as AddressInfo).port}/bucket`;

  it('reads again, up to twice, when the body is shorter than its Content-Length', async () => {
    requests = 0;
    cutShort = 2;
    const store = openStore(url(), { retries: 0 });
    const got = await store.getChunk(chunk.id);
    expect(Buffer.from(await got.plainData()).equals(await chunk.plainData())).toBe(true);
    expect(requests).toBe(3);
    await store.close();
  });

  it('gives up after the third short body', async () => {
    requests = 0;
    cutShort = 3;
    const store = openStore(url(), { retries: 0 });
    const err = (await rejection(store.getChunk(chunk.id).then((c) => c.plainData()))) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(`cannot read chunk ${chunk.id}`);
    expect(err.message).not.toContain('\n');
    expect(requests).toBe(3);
    await store.close();
  });
});

describe('S3Store files beside the chunks (indexes)', () => {
  const index = Buffer.from('an index, as far as this test cares');

  it('readFile reads the object a URL names, below a bucket or a prefix', async () => {
    const bucket = await s3.createBucket();
    await s3.putObject(bucket, 'a.caibx', index);
    await s3.putObject(bucket, 'indexes/v1/b.caibx', index);
    const env = {
      S3_ACCESS_KEY: S3RVER_CREDENTIALS.accessKeyId,
      S3_SECRET_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    };
    await withEnv(env, async () => {
      for (const key of ['a.caibx', 'indexes/v1/b.caibx']) {
        const bytes = await s3StoreScheme.readFile(`s3+${s3.endpoint}/${bucket}/${key}`, {});
        expect(Buffer.from(bytes).equals(index)).toBe(true);
      }
    });
  });

  it('getFile rejects a missing object with FileError naming its URL', async () => {
    const bucket = await s3.createBucket();
    const store = openStore(`s3+${s3.endpoint}/${bucket}/indexes`);
    const err = (await rejection(store.getFile('nope.caibx'))) as FileError;
    expect(err).toBeInstanceOf(FileError);
    expect(err.file).toBe(`s3+${s3.endpoint}/${bucket}/indexes/nope.caibx`);
    await store.close();
  });

  it('getFile refuses an object larger than maxBytes before reading it', async () => {
    const bucket = await s3.createBucket();
    await s3.putObject(bucket, 'big.caibx', Buffer.alloc(5000));
    const store = openStore(`s3+${s3.endpoint}/${bucket}`);
    const err = (await rejection(store.getFile('big.caibx', 1000))) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain('larger than 1000 bytes');
    expect((await store.getFile('big.caibx')).length).toBe(5000);
    await store.close();
  });

  it('readFile refuses a URL that names only a bucket', async () => {
    await expect(s3StoreScheme.readFile(`s3+${s3.endpoint}/bucket`, {})).rejects.toBeInstanceOf(
      InvalidArgument,
    );
    await expect(s3StoreScheme.readFile(`s3+${s3.endpoint}/bucket/`, {})).rejects.toBeInstanceOf(
      InvalidArgument,
    );
  });
});

describe('s3StoreScheme and URLs', () => {
  it.each([
    's3+http://127.0.0.1:9000/bucket',
    's3+https://s3.example.com/bucket/prefix',
    'S3+HTTPS://host/bucket',
  ])('handles %s', (location) => {
    expect(s3StoreScheme.matches(location)).toBe(true);
  });

  it.each(['http://host/bucket', 's3://bucket/key', '/srv/store', 'store'])(
    'leaves %s to others',
    (location) => {
      expect(s3StoreScheme.matches(location)).toBe(false);
    },
  );

  it('opens an S3Store whose name is the URL without a password', async () => {
    const store = await s3StoreScheme.open('s3+https://user:hunter2@s3.example.com/bucket/a/b', {});
    expect(store).toBeInstanceOf(S3Store);
    expect(store.toString()).toBe('s3+https://s3.example.com/bucket/a/b');
    await store.close();
  });

  it('takes bucket and prefix apart and picks the addressing style', () => {
    expect(parseS3Location('s3+http://127.0.0.1:9000/bucket')).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'bucket',
      prefix: '',
      forcePathStyle: true,
      display: 's3+http://127.0.0.1:9000/bucket',
    });
    const aws = parseS3Location('s3+https://s3.eu-west-1.amazonaws.com/bucket/a/b/');
    expect(aws).toMatchObject({ endpoint: 'https://s3.eu-west-1.amazonaws.com', prefix: 'a/b/' });
    expect(aws.forcePathStyle).toBe(false);
    expect(parseS3Location('s3+https://s3.amazonaws.com/bucket?lookup=path').forcePathStyle).toBe(true);
    expect(parseS3Location('s3+https://minio.local/bucket?lookup=dns').forcePathStyle).toBe(false);
    expect(parseS3Location('s3+https://minio.local/bucket?lookup=auto').forcePathStyle).toBe(true);
  });

  it.each(['s3+https://host', 's3+https://host/', 's3+https://host/bucket?lookup=maybe', 'not a url'])(
    'refuses %s with InvalidArgument',
    (url) => {
      expect(() => parseS3Location(url)).toThrow(InvalidArgument);
    },
  );
});
