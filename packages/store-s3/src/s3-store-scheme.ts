import { readFileSync } from 'node:fs';
import {
  describeSystemError,
  FileError,
  InvalidArgument,
  type StoreOpenOptions,
  type StoreScheme,
} from '@desync/core';
import type { S3StoreOptions } from './s3-store.js';

function readPem(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FileError(file, `cannot read: ${describeSystemError(err)}`, { cause: err });
  }
}

/** The S3StoreOptions that the CLI's store settings describe; PEM files are read here. */
function storeOptions(url: string, options: StoreOpenOptions): S3StoreOptions {
  const s3: S3StoreOptions = { url };
  if (options.concurrency !== undefined) s3.concurrency = options.concurrency;
  if (options.retries !== undefined) s3.retries = options.retries;
  if (options.timeoutMs !== undefined) s3.timeoutMs = options.timeoutMs;
  if (options.insecure !== undefined) s3.insecure = options.insecure;
  if (options.uncompressed !== undefined) s3.uncompressed = options.uncompressed;
  const ca = readPem(options.caCert);
  const cert = readPem(options.clientCert);
  const key = readPem(options.clientKey);
  if (ca !== undefined) s3.ca = ca;
  if (cert !== undefined) s3.clientCert = cert;
  if (key !== undefined) s3.clientKey = key;
  return s3;
}

/**
 * Reads the object a `s3+http(s)://host/bucket/[path/]name` URL names (an index), with the
 * settings of a store at its directory, as desync reads indexes from S3.
 */
async function readS3File(location: string, options: StoreOpenOptions): Promise<Uint8Array> {
  const url = new URL(location);
  const slash = url.pathname.lastIndexOf('/');
  const name = decodeURIComponent(url.pathname.slice(slash + 1));
  url.pathname = url.pathname.slice(0, slash);
  // One segment left means the URL named a bucket, not an object in one.
  if (name === '' || url.pathname.split('/').filter((s) => s !== '').length === 0) {
    throw new InvalidArgument(`'${location}' names no object; use s3+https://host/bucket/[path/]file`);
  }
  const { S3Store } = await import('./s3-store.js');
  const store = new S3Store(storeOptions(url.href, options));
  try {
    return await store.getFile(name);
  } finally {
    await store.close();
  }
}

/**
 * The registry entry for `s3+http://` and `s3+https://` stores. Register it with
 * `registerStoreScheme(s3StoreScheme)` from `@desync/core`. It maps `-n`, `--error-retry`,
 * `--timeout`, `-t`, `--ca-cert` and `--client-cert`/`--client-key` to S3StoreOptions;
 * credentials and region come from the environment (see S3StoreOptions). `readFile` reads
 * one object, such as an index, by its URL.
 */
export const s3StoreScheme: StoreScheme & {
  readFile(location: string, options: StoreOpenOptions): Promise<Uint8Array>;
} = {
  name: 's3',
  matches: (location) => /^s3\+https?:\/\//i.test(location),
  // The AWS SDK is loaded only when a store is opened (`@desync/store-s3/scheme` is light).
  open: async (location, options) => {
    const { S3Store } = await import('./s3-store.js');
    return new S3Store(storeOptions(location, options));
  },
  readFile: readS3File,
};
