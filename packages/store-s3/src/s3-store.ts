import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  Chunk,
  type ChunkId,
  ChunkMissing,
  FileError,
  type GetChunkOptions,
  InvalidArgument,
  isChunkId,
  type PruneStore,
  StoreError,
} from '@desync/core';
import { httpStatusOf, s3Failure } from './s3-failure.js';
import { parseS3Location, type S3Location } from './s3-location.js';

/** Keys that sign requests, as the SDK takes them. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** For temporary credentials (STS). */
  sessionToken?: string;
}

/** Options of an S3Store. */
export interface S3StoreOptions {
  /**
   * `s3+https://host[:port]/bucket[/prefix]` or `s3+http://…`. Chunks live under the prefix
   * (none: the bucket root). `?lookup=path|dns|auto` picks the addressing style; default
   * (`auto`) path-style, except virtual-hosted on `*.amazonaws.com`.
   */
  url: string;
  /**
   * Signing keys. Default: S3_ACCESS_KEY, S3_SECRET_KEY and S3_SESSION_TOKEN from the
   * environment (as desync reads them) when S3_ACCESS_KEY is set, else the AWS SDK's default
   * chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials, instance roles).
   */
  credentials?: S3Credentials;
  /** Signing region. Default: S3_REGION, else AWS_REGION, else `us-east-1`. */
  region?: string;
  /** Requests the caller runs at once; the connection pool holds at least this many sockets. Default 10. */
  concurrency?: number;
  /** Attempts after a failed request (connection error, 5xx, throttling) before giving up. Default 3. */
  retries?: number;
  /** Milliseconds before a request (connecting, or waiting for an answer) is given up. Default: none. */
  timeoutMs?: number;
  /** Accept any TLS certificate (self-signed). Default false. */
  insecure?: boolean;
  /** PEM certificate authorities to trust besides the system's. */
  ca?: string;
  /** PEM client certificate and its key, for mutual TLS. */
  clientCert?: string;
  clientKey?: string;
  /** Chunks are plain bytes in `[prefix/]<4 hex>/<id>` (desync's uncompressed stores). Default false. */
  uncompressed?: boolean;
}

const CHUNK_KEY = /^([0-9a-f]{4})\/([0-9a-f]{64})\.cacnk$/;
const PLAIN_CHUNK_KEY = /^([0-9a-f]{4})\/([0-9a-f]{64})$/;
/** Indexes far beyond any real one are refused before they fill memory. */
const MAX_FILE_BYTES = 1024 * 1024 * 1024;
const QUIET_LOGGER = { debug() {}, info() {}, warn() {}, error() {} };
/** Extra reads of a body that arrived shorter than its Content-Length (a dropped connection). */
const SHORT_BODY_RETRIES = 2;

/** Reads the desync credential variables, or leaves the choice to the SDK's default chain. */
function credentialsFromEnv(display: string): S3Credentials | undefined {
  const accessKeyId = process.env.S3_ACCESS_KEY;
  const secretAccessKey = process.env.S3_SECRET_KEY;
  if (!accessKeyId && !secretAccessKey) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    const missing = accessKeyId ? 'S3_SECRET_KEY' : 'S3_ACCESS_KEY';
    throw new InvalidArgument(`${display}: ${missing} is not set; set both S3_ACCESS_KEY and S3_SECRET_KEY`);
  }
  const sessionToken = process.env.S3_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return (
    name === 'NoSuchKey' || name === 'NotFound' || (httpStatusOf(err) === 404 && name !== 'NoSuchBucket')
  );
}

/**
 * A chunk store in an S3 bucket (AWS, MinIO, Ceph, ...), in the same layout as a local
 * store: each chunk is a zstd frame in the object `[prefix/]<first 4 hex of id>/<id>.cacnk`
 * (desync s3.go), so desync and this store share buckets, and a local store copied there
 * with `aws s3 sync` works as is.
 *
 * An object PUT is atomic in S3: readers see a whole chunk or none, so no temp objects are
 * needed. storeChunk asks with HEAD first and skips chunks already there, which saves the
 * upload on re-runs. S3 deletes succeed for missing keys, so removeChunk asks first to
 * report ChunkMissing as the Store contract requires.
 *
 * Reads are not verified here: getChunk returns the frame, and the Chunk checks it against
 * its id when its plain bytes are first read.
 */
export class S3Store implements PruneStore {
  /** The bucket, from the URL's first path segment. */
  readonly bucket: string;
  /** The key prefix of chunk objects: empty, or ending in `/`. */
  readonly prefix: string;
  readonly #location: S3Location;
  readonly #client: S3Client;
  readonly #uncompressed: boolean;
  #closed = false;

  constructor(options: S3StoreOptions) {
    const location = parseS3Location(options.url);
    this.#location = location;
    this.bucket = location.bucket;
    this.prefix = location.prefix;
    this.#uncompressed = options.uncompressed ?? false;
    const concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new InvalidArgument(`${location.display}: concurrency must be a positive integer`);
    }
    // Twice the caller's concurrency, at least 16: callers may read and write side by side,
    // e.g. a cache filled while chunks are fetched.
    const maxSockets = Math.max(2 * concurrency, 16);
    const tls = {
      rejectUnauthorized: !(options.insecure ?? false),
      ...(options.ca !== undefined && { ca: options.ca }),
      ...(options.clientCert !== undefined && { cert: options.clientCert }),
      ...(options.clientKey !== undefined && { key: options.clientKey }),
    };
    const credentials = options.credentials ?? credentialsFromEnv(location.display);
    // The SDK warns on stderr, once per process, that its 2027 releases need Node 22; that is
    // news for whoever upgrades the SDK, not for users, and it would break the CLI's one-line
    // errors. Set the variable to anything else to see it.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.#client = new S3Client({
      endpoint: location.endpoint,
      forcePathStyle: location.forcePathStyle,
      region: options.region ?? process.env.S3_REGION ?? process.env.AWS_REGION ?? 'us-east-1',
      ...(credentials && { credentials }),
      maxAttempts: (options.retries ?? 3) + 1,
      // Only where S3 demands them: S3-compatible servers (MinIO before 2024, Ceph, s3rver)
      // reject the CRC trailers the SDK otherwise adds; chunks are verified by their id anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        // The handler's only messages are socket pool warnings on stderr (console by
        // default); the pool is sized above, and a CLI error must stay one line.
        logger: QUIET_LOGGER,
        httpAgent: { keepAlive: true, maxSockets },
        httpsAgent: { keepAlive: true, maxSockets, ...tls },
        ...(options.timeoutMs !== undefined && {
          connectionTimeout: options.timeoutMs,
          requestTimeout: options.timeoutMs,
          // Without it the SDK only logs a warning when the request timeout passes.
          throwOnRequestTimeout: true,
        }),
      },
    });
  }

  /** The object key that holds (or would hold) chunk `id`. */
  chunkKey(id: ChunkId): string {
    if (!isChunkId(id)) {
      throw new InvalidArgument(`invalid chunk id '${id}': expected 64 lowercase hex characters`);
    }
    return `${this.prefix}${id.slice(0, 4)}/${id}${this.#uncompressed ? '' : '.cacnk'}`;
  }

  /**
   * Downloads the chunk object; a missing object rejects with ChunkMissing. A body cut short
   * of its Content-Length (a connection dropped mid-transfer) is read again, up to twice.
   */
  async getChunk(id: ChunkId, options?: GetChunkOptions): Promise<Chunk> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    const key = this.chunkKey(id);
    for (let attempt = 0; ; attempt++) {
      let bytes: Uint8Array;
      let expected: number | undefined;
      try {
        const res = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
          abortSignal: signal,
        });
        expected = res.ContentLength;
        bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
      } catch (err) {
        // The SDK rejects with its own AbortError; the Store contract promises the reason.
        signal?.throwIfAborted();
        if (isNotFound(err)) throw new ChunkMissing(id, this.toString(), { cause: err });
        if (attempt < SHORT_BODY_RETRIES && isCutShort(err)) continue;
        throw this.failure(`cannot read chunk ${id}`, err);
      }
      if (expected !== undefined && bytes.length < expected && attempt < SHORT_BODY_RETRIES) continue;
      const origin = { source: this.toString(), expectedSize: options?.expectedSize };
      return this.#uncompressed
        ? Chunk.fromUnverifiedPlain(id, bytes, origin)
        : Chunk.fromCompressed(id, bytes, origin);
    }
  }

  /** Whether the chunk object exists, by HEAD: nothing is downloaded. */
  async hasChunk(id: ChunkId): Promise<boolean> {
    const key = this.chunkKey(id);
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw this.failure(`cannot look up chunk ${id}`, err);
    }
  }

  /** Uploads the chunk's zstd frame unless the object exists already (then nothing is sent). */
  async storeChunk(chunk: Chunk): Promise<void> {
    if (await this.hasChunk(chunk.id)) return;
    const key = this.chunkKey(chunk.id);
    const body = this.#uncompressed ? await chunk.plainData() : await chunk.compressedData();
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          // desync s3.go StoreChunk labels chunk objects so.
          ContentType: 'application/zstd',
        }),
      );
    } catch (err) {
      throw this.failure(`cannot write chunk ${chunk.id}`, err);
    }
  }

  /**
   * Yields the id of every `[prefix/]<4 hex>/<id>.cacnk` object whose directory matches its
   * id, one ListObjectsV2 page (up to 1000 keys) at a time. Other keys, keys below nested
   * prefixes and misplaced chunks are skipped.
   */
  async *listChunks(signal?: AbortSignal): AsyncIterable<ChunkId> {
    signal?.throwIfAborted();
    let token: string | undefined;
    do {
      let page: Awaited<ReturnType<typeof this.listPage>>;
      try {
        page = await this.listPage(token, signal);
      } catch (err) {
        signal?.throwIfAborted();
        throw this.failure('cannot list chunks', err);
      }
      for (const object of page.Contents ?? []) {
        signal?.throwIfAborted();
        const match = (this.#uncompressed ? PLAIN_CHUNK_KEY : CHUNK_KEY).exec(
          object.Key?.slice(this.prefix.length) ?? '',
        );
        if (!match || !object.Key?.startsWith(this.prefix) || !match[2].startsWith(match[1])) continue;
        yield match[2] as ChunkId;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes the chunk object; a missing one rejects with ChunkMissing (S3 itself would not say). */
  async removeChunk(id: ChunkId): Promise<void> {
    if (!(await this.hasChunk(id))) throw new ChunkMissing(id, this.toString());
    const key = this.chunkKey(id);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) throw new ChunkMissing(id, this.toString(), { cause: err });
      throw this.failure(`cannot remove chunk ${id}`, err);
    }
  }

  /**
   * Reads the object `[prefix/]name` whole: an index kept beside the chunks, as desync's S3
   * index stores keep them. A missing object rejects with FileError naming its URL; one larger
   * than `maxBytes` (default 1 GiB, beyond any real index) with StoreError, before its body
   * is read.
   */
  async getFile(name: string, maxBytes = MAX_FILE_BYTES): Promise<Uint8Array> {
    const where = this.urlOf(name);
    if (name === '' || name.startsWith('/')) throw new InvalidArgument(`'${where}' names no file`);
    try {
      const res = await this.#client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + name }),
      );
      if ((res.ContentLength ?? 0) > maxBytes) {
        await res.Body?.transformToWebStream().cancel();
        throw new StoreError(this.toString(), `${where}: larger than ${maxBytes} bytes`);
      }
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      if (isNotFound(err)) throw new FileError(where, 'no such object', { cause: err });
      throw this.failure(`cannot read ${where}`, err);
    }
  }

  /** Closes the pooled connections; later calls do nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
  }

  /** The store URL as given, without any `user:password@`. */
  toString(): string {
    return this.#location.display;
  }

  private listPage(token: string | undefined, signal: AbortSignal | undefined) {
    return this.#client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: this.prefix || undefined,
        ContinuationToken: token,
      }),
      { abortSignal: signal },
    );
  }

  /** The URL of object `[prefix/]name`, for messages. */
  private urlOf(name: string): string {
    const url = new URL(this.#location.display);
    url.pathname = `${url.pathname.replace(/\/$/, '')}/${name}`;
    return url.href;
  }

  private failure(what: string, err: unknown) {
    return s3Failure(this.toString(), what, err, this.bucket);
  }
}

/** True when a body read failed because the connection closed before the whole body came. */
function isCutShort(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return (
    e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || /aborted/i.test(e?.message ?? '')
  );
}
