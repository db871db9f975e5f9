import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import S3rver from 's3rver';

/** s3rver's built-in account (s3rver lib/models/account.js). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** An s3rver running in this process on 127.0.0.1, with an SDK client for setting up tests. */
export interface S3rverHarness {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** A client signed with S3RVER_CREDENTIALS, path-style, for writing objects behind a store's back. */
  client: S3Client;
  /** Creates a bucket with a fresh random name and returns the name. */
  createBucket(): Promise<string>;
  /** Writes `body` to `bucket/key` as is. */
  putObject(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts s3rver on a random loopback port, keeping its objects in a new temp directory. */
export async function startS3rver(): Promise<S3rverHarness> {
  const directory = await makeTempDir('desync-s3rver-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  makePutsAtomic(server);
  allowContinuationTokens();
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    client,
    async createBucket() {
      const name = `test-${randomBytes(6).toString('hex')}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async putObject(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async stop() {
      client.destroy();
      server.httpServer.closeAllConnections();
      await server.close();
      await removeTempDir(directory);
    },
  };
}

/**
 * s3rver writes an object in place while the body streams in, so a concurrent GET can read
 * half of it; S3 itself makes a PUT visible only when complete. This swaps in a write to a
 * temp file renamed into place, so tests see S3's behaviour.
 */
function makePutsAtomic(server: S3rver): void {
  const store = server.store;
  store.putObject = async (object) => {
    const content = Buffer.isBuffer(object.content) ? object.content : await buffer(object.content);
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, content);
    await rename(tmp, path);
    const md5 = createHash('md5').update(content).digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: content.length, md5 };
  };
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES (lib/controllers/bucket.js),
 * which OpenSSL 3 (Node >= 17) no longer offers, so any listing longer than one page fails
 * with a 500. Triple DES in the default provider has the same block and IV size: single DES is
 * triple DES with one key three times. Only the `des` cipher is swapped, and only here.
 */
function allowContinuationTokens(): void {
  // The CommonJS module object, which s3rver shares; the ESM namespace is read-only.
  const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  if ((crypto as { desPatched?: boolean }).desPatched) return;
  (crypto as { desPatched?: boolean }).desPatched = true;
  const { createCipheriv, createDecipheriv } = crypto;
  const tripled = (key: Buffer) => Buffer.concat([key, key, key]);
  Object.assign(crypto, {
    createCipheriv: (algorithm: string, key: Buffer, iv: Buffer, options?: never) =>
      algorithm === 'des'
        ? createCipheriv('des-ede3-cbc', tripled(key), iv)
        : createCipheriv(algorithm, key, iv, options),
    createDecipheriv: (algorithm: string, key: Buffer, iv: Buffer, options?: never) =>
      algorithm === 'des'
        ? createDecipheriv('des-ede3-cbc', tripled(key), iv)
        : createDecipheriv(algorithm, key, iv, options),
  });
}
