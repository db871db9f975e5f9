import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ChunkId } from '@desync/core';
import { EXIT_CODES } from '@desync/core';
import { S3Store } from '@desync/store-s3';
import { makeTempDir, removeTempDir, repoRoot, writeMixedFile } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desyncOk, expectOneLineError, parseCaibx, runDesync } from './helpers.js';

const KiB = 1024;

/** The part of s3rver (lib/s3rver.js) these tests use; it ships no types. */
interface S3rverServer {
  httpServer: Server;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverServer;

// s3rver is a devDependency of @desync/store-s3, the package these tests are about; the CLI
// does not depend on it, so it is loaded from there.
const S3rver = createRequire(join(repoRoot(), 'packages', 'store-s3', 'package.json'))(
  's3rver',
) as S3rverClass;

/** s3rver's built-in account (s3rver lib/models/account.js). */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const ENV = { S3_ACCESS_KEY: CREDENTIALS.accessKeyId, S3_SECRET_KEY: CREDENTIALS.secretAccessKey };
const BUCKETS = ['make', 'prefixed', 'indexes', 'corrupt', 'prune', 'denied'];

let dir: string;
let s3dir: string;
let server: S3rverServer;
let endpoint: string;

beforeAll(async () => {
  dir = await makeTempDir('desync-cli-s3-');
  s3dir = join(dir, 's3rver');
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: s3dir,
    configureBuckets: BUCKETS.map((name) => ({ name })),
  });
  const { port } = await server.run();
  endpoint = `s3+http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server?.httpServer.closeAllConnections();
  await server?.close();
  await removeTempDir(dir);
});

/** Runs the CLI with s3rver's keys, failing the test unless it exits 0. */
const ok = (args: string[]) => desyncOk(args, { env: ENV });

async function chunksIn(url: string): Promise<string[]> {
  const store = new S3Store({ url, credentials: CREDENTIALS });
  try {
    const ids: string[] = [];
    for await (const id of store.listChunks()) ids.push(id);
    return ids.sort();
  } finally {
    await store.close();
  }
}

/** Makes `name` (mixed data, `size` bytes) into the store at `url`; returns the file and its index. */
async function makeInto(url: string, name: string, size: number, seed: number) {
  const file = join(dir, name);
  await writeMixedFile(file, size, seed);
  await ok(['make', '-s', url, `${file}.caibx`, file]);
  return { file, index: `${file}.caibx` };
}

async function indexIds(index: string): Promise<string[]> {
  return [...new Set((await parseCaibx(index)).chunks.map((c) => c.id))].sort();
}

describe('desync with an s3+http:// store', () => {
  it('makes an index into a bucket and extracts it back, byte for byte', async () => {
    const url = `${endpoint}/make`;
    const { file, index } = await makeInto(url, 'a', 1536 * KiB, 1);
    expect(await chunksIn(url)).toEqual(await indexIds(index));
    const out = join(dir, 'a.out');
    await ok(['extract', '-s', url, index, out]);
    expect((await readFile(out)).equals(await readFile(file))).toBe(true);
  });

  it('keeps the chunks of a store with a prefix under that prefix only', async () => {
    const url = `${endpoint}/prefixed/stores/one`;
    const { file, index } = await makeInto(url, 'b', 512 * KiB, 2);
    expect(await chunksIn(url)).toEqual(await indexIds(index));
    expect(await chunksIn(`${endpoint}/prefixed`)).toEqual([]);
    expect(await chunksIn(`${endpoint}/prefixed/stores/two`)).toEqual([]);
    const out = join(dir, 'b.out');
    await ok(['extract', '-s', url, index, out]);
    expect((await readFile(out)).equals(await readFile(file))).toBe(true);
  });

  it('extracts from an index kept in the bucket, named by its s3+ URL', async () => {
    const url = `${endpoint}/indexes/store`;
    const { file, index } = await makeInto(url, 'h', 512 * KiB, 7);
    // s3rver keeps each object in a file named after its key, and serves it as it is on disk.
    await mkdir(join(s3dir, 'indexes', 'store', 'v1'), { recursive: true });
    await writeFile(join(s3dir, 'indexes', 'store', 'v1', 'h.caibx._S3rver_object'), await readFile(index));
    const out = join(dir, 'h.out');
    await ok(['extract', '-s', url, `${url}/v1/h.caibx`, out]);
    expect((await readFile(out)).equals(await readFile(file))).toBe(true);

    const missing = await runDesync(['extract', '-s', url, `${url}/v1/nope.caibx`, out], { env: ENV });
    expect(missing.code, missing.stderr).toBe(EXIT_CODES.FILE_ERROR);
    expectOneLineError(missing, [`${url}/v1/nope.caibx`]);
  });

  it('fails with one line naming the URL when the keys are rejected', async () => {
    const url = `${endpoint}/denied`;
    const { index } = await makeInto(url, 'c', 256 * KiB, 3);
    const secret = 'wrong-secret-0123456789';
    const env = { S3_ACCESS_KEY: 'NOSUCHKEY', S3_SECRET_KEY: secret };
    for (const args of [
      ['extract', '-s', url, index, join(dir, 'c.out')],
      ['verify', '-s', url],
    ]) {
      const result = await runDesync(args, { env });
      expect(result.code, result.stderr).toBe(EXIT_CODES.STORE_ERROR);
      const line = expectOneLineError(result, [url, 'credentials rejected']);
      expect(line).not.toContain(secret);
    }
  });

  it('fails with one line naming the URL when no credentials can be found', async () => {
    const url = `${endpoint}/denied`;
    const nowhere = join(dir, 'no-such-aws-file');
    const result = await runDesync(['verify', '-s', url], {
      env: {
        S3_ACCESS_KEY: undefined,
        S3_SECRET_KEY: undefined,
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_SESSION_TOKEN: undefined,
        AWS_PROFILE: undefined,
        AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
        AWS_SHARED_CREDENTIALS_FILE: nowhere,
        AWS_CONFIG_FILE: nowhere,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    expect(result.code, result.stderr).toBe(EXIT_CODES.STORE_ERROR);
    expectOneLineError(result, [url, 'S3_ACCESS_KEY']);
  });

  it('fails with one line naming the bucket when it does not exist', async () => {
    const url = `${endpoint}/no-such-bucket`;
    const file = join(dir, 'd');
    await writeFile(file, cryptoRandomBytes(100 * KiB));
    for (const args of [
      ['make', '-s', url, `${file}.caibx`, file],
      ['verify', '-s', url],
    ]) {
      const result = await runDesync(args, { env: ENV });
      expect(result.code, result.stderr).toBe(EXIT_CODES.STORE_ERROR);
      expectOneLineError(result, [url, "bucket 'no-such-bucket' does not exist"]);
    }
  });

  it('reports a corrupt chunk object on extract, and verify -r removes it', async () => {
    const url = `${endpoint}/corrupt`;
    const { index } = await makeInto(url, 'e', 768 * KiB, 4);
    const ids = await chunksIn(url);
    expect(ids.length).toBeGreaterThan(3);
    const bad = ids[1];
    // s3rver keeps each object in a file named after its key, and serves it as it is on disk.
    await writeFile(
      join(s3dir, 'corrupt', bad.slice(0, 4), `${bad}.cacnk._S3rver_object`),
      cryptoRandomBytes(999),
    );

    const extract = await runDesync(['extract', '-s', url, index, join(dir, 'e.out')], { env: ENV });
    expect(extract.code, extract.stderr).toBe(EXIT_CODES.CHUNK_INVALID);
    expectOneLineError(extract, [bad, url]);

    const check = await runDesync(['verify', '-s', url], { env: ENV });
    expect(check.code, check.stderr).toBe(EXIT_CODES.CHUNK_INVALID);
    expect(check.stdout.toString()).toBe(`${ids.length} chunks checked, 1 invalid, 0 removed\n`);
    expect(check.stderr).toContain(bad);

    const repair = await ok(['verify', '-s', url, '-r']);
    expect(repair.stdout.toString()).toBe(`${ids.length} chunks checked, 1 invalid, 1 removed\n`);
    expect(await chunksIn(url)).toEqual(ids.filter((id) => id !== bad));
  });

  it('prunes the chunks no given index references', async () => {
    const url = `${endpoint}/prune`;
    const kept = await makeInto(url, 'f', 512 * KiB, 5);
    const dropped = await makeInto(url, 'g', 512 * KiB, 6);
    const keep = await indexIds(kept.index);
    const before = await chunksIn(url);
    const gone = before.filter((id) => !keep.includes(id));
    expect(gone.length).toBeGreaterThan(0);
    expect((await indexIds(dropped.index)).some((id) => gone.includes(id))).toBe(true);

    const result = await ok(['prune', '-s', url, '-y', kept.index]);
    expect(result.stdout.toString()).toBe(`${gone.length} chunks removed, ${keep.length} kept\n`);
    expect(await chunksIn(url)).toEqual(keep);
    const out = join(dir, 'f.out');
    await ok(['extract', '-s', url, kept.index, out]);
    expect((await readFile(out)).equals(await readFile(kept.file))).toBe(true);
    // Nothing left to remove: a second prune is a no-op.
    const again = await ok(['prune', '-s', url, '-y', kept.index]);
    expect(again.stdout.toString()).toBe(`0 chunks removed, ${keep.length} kept\n`);
    expect(await chunksIn(url)).toEqual(keep as ChunkId[]);
  });
});
