import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import {
  Chunk,
  type ChunkId,
  ChunkInvalid,
  ChunkMissing,
  describeSystemError,
  FileError,
  type GetChunkOptions,
  InvalidArgument,
  isChunkId,
  MAX_CHUNK_SIZE,
  StoreError,
  type WriteStore,
} from '@desync/core';
import { onAbort } from './abort-listeners.js';
import { type HttpResponse, RequestTimeout, ResponseTooLarge, sendRequest } from './http-request.js';
import { parseStoreUrl } from './store-url.js';

/** Options of an HttpStore. */
export interface HttpStoreOptions {
  /**
   * The store's base URL, `http://` or `https://`, with or without a trailing `/`; a path
   * prefix is kept (`https://host/stores/a` reads `https://host/stores/a/<4 hex>/<id>.cacnk`).
   * `http://user:password@host/` sends the user and password as Basic authorization; they never
   * show in toString() or in messages.
   */
  url: string | URL;
  /** Most connections open to the server at once (at least the caller's parallelism). Default 10. */
  concurrency?: number;
  /**
   * Milliseconds from a request getting its connection to the last byte of the answer, for
   * each attempt. Default 60 000.
   */
  timeoutMs?: number;
  /** Attempts after a connection error, a timeout or a 5xx answer before failing. Default 3. */
  retries?: number;
  /** Wait before the first retry in milliseconds; doubled for each further one. Default 500. */
  retryDelayMs?: number;
  /** Accept any server certificate (self-signed, wrong name, expired). Default false. */
  insecure?: boolean;
  /** PEM file of certificate authorities to trust besides the system's. Read once, here. */
  caCert?: string;
  /** PEM file of the client certificate for mutual TLS. Read once, here. */
  clientCert?: string;
  /** PEM file of the client certificate's key. Default: the clientCert file (key and certificate in one). */
  clientKey?: string;
  /**
   * The Authorization header value sent with every request, e.g. `Bearer TOKEN`. Takes
   * precedence over a user and password in the URL. Never shown in messages.
   */
  httpAuth?: string;
  /** Chunks are plain bytes at `<4 hex>/<id>` (desync's uncompressed stores). Default false. */
  uncompressed?: boolean;
}

/** The suffix of a zstd-compressed chunk (casync cautil.c ca_compressed_chunk_suffix). */
const CHUNK_SUFFIX = '.cacnk';

/**
 * zstd's worst case for incompressible input (ZSTD_compressBound: size + size/256 + a little),
 * so a server that answers with endless bytes cannot fill memory.
 */
const MAX_BODY_BYTES = MAX_CHUNK_SIZE + (MAX_CHUNK_SIZE >> 8) + 64 * 1024;
// An index of a 1 TiB blob at 64 KiB chunks is ~640 MiB; refuse anything beyond that.
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

/** Transport errors that a later attempt may not meet: the server restarting, a dropped connection. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** OpenSSL verification failures (X509_V_ERR_*) that a CA file or -t can fix. */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isTransient(err: unknown): boolean {
  return err instanceof RequestTimeout || TRANSIENT_CODES.has(errorCode(err) ?? '');
}

/** A transport error in a few words, with what to do where the fix is a flag. */
function describeTransportError(err: unknown): string {
  const code = errorCode(err) ?? '';
  // OpenSSL errors carry a multi-line message with source locations and a short `reason`.
  const { reason, message } = (err ?? {}) as { reason?: unknown; message?: unknown };
  const text = typeof reason === 'string' ? reason : typeof message === 'string' ? message : String(err);
  // Node 24 appends advice about --use-system-ca to certificate errors; ours follows instead.
  const what = text
    .replace(/; if the root CA is installed locally.*$/s, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (UNTRUSTED_CERT_CODES.has(code)) {
    return `the server's TLS certificate is not trusted (${what}); pass its CA with --ca-cert, or -t to trust any certificate`;
  }
  // TLS alerts from the server: mostly a client certificate it wants and did not get.
  if (
    /^ERR_SSL_.*(ALERT|HANDSHAKE)/.test(code) ||
    /alert (certificate required|bad certificate)/i.test(what)
  ) {
    return `the server refused the TLS handshake (${what}); it may require a client certificate (--client-cert, --client-key)`;
  }
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'no such host';
  return what;
}

function readPem(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new FileError(file, `cannot read: ${describeSystemError(err)}`, { cause: err });
  }
}

function integerAtLeast(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgument(`HttpStore ${name} must be an integer >= ${min}, not ${value}`);
  }
  return value;
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      unsubscribe?.();
      resolve();
    }, ms);
    const unsubscribe =
      signal &&
      onAbort(signal, () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
  });
}

/**
 * A chunk store served over HTTP(S) in casync's layout: chunk `id` is the zstd frame at
 * `<base>/<first 4 hex digits of id>/<id>.cacnk`, as casync, desync and any static file server
 * publish a local store. GET reads a chunk, HEAD answers hasChunk, PUT stores one (desync's
 * chunk-server takes PUT; a static server refuses it, and storeChunk then fails).
 *
 * Connections are kept alive in one Agent sized to `concurrency`, so parallel reads reuse
 * TLS sessions instead of paying a handshake each. A connection error, a timeout or a 5xx
 * answer is retried with exponential backoff; a 404 is ChunkMissing at once, so a chain of
 * stores moves on without waiting. Certificates and keys are read once, when the store is
 * made.
 *
 * Reads are verified: getChunk returns the frame as a Chunk that checks it against the id
 * when its plain bytes are first read (ChunkInvalid then).
 */
export class HttpStore implements WriteStore {
  readonly #base: URL;
  readonly #agent: HttpAgent;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #uncompressed: boolean;
  #closed = false;

  constructor(options: HttpStoreOptions) {
    const { base, basicAuth } = parseStoreUrl(options.url);
    this.#base = base;
    const concurrency = integerAtLeast('concurrency', options.concurrency ?? 10, 1);
    this.#timeoutMs = integerAtLeast('timeoutMs', options.timeoutMs ?? 60_000, 1);
    this.#retries = integerAtLeast('retries', options.retries ?? 3, 0);
    this.#retryDelayMs = integerAtLeast('retryDelayMs', options.retryDelayMs ?? 500, 0);
    this.#uncompressed = options.uncompressed ?? false;
    if (options.clientKey !== undefined && options.clientCert === undefined) {
      throw new InvalidArgument('a client key needs its client certificate (--client-cert)');
    }
    this.#headers = {};
    const authorization = options.httpAuth ?? basicAuth;
    if (authorization !== undefined) this.#headers.authorization = authorization;

    const agentOptions = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
    if (base.protocol === 'https:') {
      const ca = readPem(options.caCert);
      const cert = readPem(options.clientCert);
      const key = readPem(options.clientKey ?? options.clientCert);
      this.#agent = new HttpsAgent({
        ...agentOptions,
        rejectUnauthorized: !(options.insecure ?? false),
        // Node's `ca` replaces the built-in list; the CA file is meant to add to it.
        ca: ca ? [...rootCertificates, ca.toString('utf8')] : undefined,
        cert,
        key,
      });
    } else {
      this.#agent = new HttpAgent(agentOptions);
    }
  }

  /**
   * GETs the chunk. 404 (or 410) rejects with ChunkMissing without retrying; the Chunk
   * returned verifies the bytes against `id` when they are first read.
   */
  async getChunk(id: ChunkId, options?: GetChunkOptions): Promise<Chunk> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    const url = this.chunkUrl(id);
    let res: HttpResponse;
    try {
      res = await this.request({ method: 'GET', url, signal });
    } catch (err) {
      if (err instanceof ResponseTooLarge) {
        throw new ChunkInvalid(id, this.toString(), err.message, { cause: err });
      }
      throw err;
    }
    if (res.status === 404 || res.status === 410) throw new ChunkMissing(id, this.toString());
    if (res.status !== 200) throw this.statusError('GET', url, res);
    const origin = { source: this.toString(), expectedSize: options?.expectedSize };
    return this.#uncompressed
      ? Chunk.fromUnverifiedPlain(id, res.body, origin)
      : Chunk.fromCompressed(id, res.body, origin);
  }

  /** HEADs the chunk: true on 2xx, false on 404 or 410; nothing is transferred. */
  async hasChunk(id: ChunkId): Promise<boolean> {
    const url = this.chunkUrl(id);
    const res = await this.request({ method: 'HEAD', url });
    if (res.status >= 200 && res.status <= 299) return true;
    if (res.status === 404 || res.status === 410) return false;
    throw this.statusError('HEAD', url, res);
  }

  /**
   * PUTs the chunk's zstd frame. Idempotent as PUT is: storing a chunk the server holds
   * replaces it with the same bytes. Atomicity is the server's (desync's chunk-server writes
   * a temp file and renames it).
   */
  async storeChunk(chunk: Chunk): Promise<void> {
    const url = this.chunkUrl(chunk.id);
    const body = this.#uncompressed ? await chunk.plainData() : await chunk.compressedData();
    const res = await this.request({ method: 'PUT', url, body });
    if (res.status >= 200 && res.status <= 299) return;
    throw this.statusError('PUT', url, res);
  }

  /**
   * GETs a whole file (an index) at `url`, which need not be under the store's base: the
   * store's connection settings, retries and credentials apply. Rejects with FileError on
   * 404/410, StoreError for other failures, and refuses bodies over `maxBytes`.
   */
  async getFile(url: URL, maxBytes = MAX_FILE_BYTES): Promise<Uint8Array> {
    const clean = new URL(url.href);
    clean.username = '';
    clean.password = '';
    let res: HttpResponse;
    try {
      res = await this.request({ method: 'GET', url: clean, maxBodyBytes: maxBytes });
    } catch (err) {
      if (err instanceof ResponseTooLarge) {
        throw new StoreError(this.toString(), `GET ${clean.href}: larger than ${maxBytes} bytes`, {
          cause: err,
        });
      }
      throw err;
    }
    if (res.status === 404 || res.status === 410) throw new FileError(clean.href, 'not found (HTTP 404)');
    if (res.status !== 200) throw this.statusError('GET', clean, res);
    return res.body;
  }

  /** Closes every connection; later calls fail with StoreError. Calling it twice is fine. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#agent.destroy();
  }

  /** The base URL, without user or password. */
  toString(): string {
    return this.#base.href;
  }

  /** The URL of chunk `id`. Throws InvalidArgument for a string that is not a chunk id. */
  chunkUrl(id: ChunkId): URL {
    if (!isChunkId(id)) {
      throw new InvalidArgument(`invalid chunk id '${id}': expected 64 lowercase hex characters`);
    }
    return new URL(`${id.slice(0, 4)}/${id}${this.#uncompressed ? '' : CHUNK_SUFFIX}`, this.#base);
  }

  /**
   * Sends a request, retrying connection errors, timeouts and 5xx answers with exponential
   * backoff. Resolves with any answer below 500; rejects with StoreError naming the URL and
   * the last failure, or with the signal's reason.
   */
  private async request(req: {
    method: 'GET' | 'HEAD' | 'PUT';
    url: URL;
    body?: Uint8Array;
    signal?: AbortSignal;
    maxBodyBytes?: number;
  }): Promise<HttpResponse> {
    const { method, url, signal } = req;
    const headers: Record<string, string> = { ...this.#headers };
    if (req.body) headers['content-type'] = 'application/octet-stream';
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      if (this.#closed) throw new StoreError(this.toString(), `${method} ${url.href}: the store is closed`);
      let failure: string;
      let cause: unknown;
      try {
        const res = await sendRequest({
          method,
          url,
          agent: this.#agent,
          headers,
          body: req.body,
          timeoutMs: this.#timeoutMs,
          maxBodyBytes: req.maxBodyBytes ?? MAX_BODY_BYTES,
          signal,
        });
        if (res.status < 500) return res;
        failure = `HTTP ${res.status} ${res.statusText}`.trimEnd();
      } catch (err) {
        signal?.throwIfAborted();
        // getChunk reports an oversized chunk as ChunkInvalid; elsewhere it is a StoreError below.
        if (err instanceof ResponseTooLarge && method === 'GET') throw err;
        if (!isTransient(err)) {
          throw new StoreError(this.toString(), `${method} ${url.href}: ${describeTransportError(err)}`, {
            cause: err,
          });
        }
        failure = describeTransportError(err);
        cause = err;
      }
      if (attempt >= this.#retries) {
        const tries = attempt === 0 ? '' : ` (${attempt + 1} attempts)`;
        throw new StoreError(this.toString(), `${method} ${url.href}: ${failure}${tries}`, { cause });
      }
      await delay(this.#retryDelayMs * 2 ** attempt, signal);
    }
  }

  /** A StoreError for an answer below 500 that the operation cannot use. */
  private statusError(method: string, url: URL, res: HttpResponse): StoreError {
    const status = `HTTP ${res.status} ${res.statusText}`.trimEnd();
    let hint = '';
    if (res.status === 401)
      hint = '; the server wants credentials (--http-auth or user:password@ in the URL)';
    else if (res.status === 403 && method !== 'PUT') hint = '; check the credentials (--http-auth)';
    else if (method === 'PUT' && [403, 405, 501].includes(res.status)) {
      hint = '; the server does not accept writes (a read-only store, or credentials without write access)';
    }
    return new StoreError(this.toString(), `${method} ${url.href}: ${status}${hint}`);
  }
}
