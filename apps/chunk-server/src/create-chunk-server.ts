import {
  Chunk,
  type ChunkId,
  ChunkInvalid,
  InvalidArgument,
  isWriteStore,
  type Store,
  type WriteStore,
  zstdFrameLength,
} from '@desync/core';
import { type Context, Hono } from 'hono';
import { parseChunkPath } from './chunk-path.js';
import { errorReply, isServerFault } from './error-response.js';
import { UploadRejected, UploadTooLarge } from './errors.js';
import { isIndexPath, openIndexFile } from './index-files.js';
import { requestLog } from './middleware/request-log.js';
import { tokenAuth } from './middleware/token-auth.js';
import { readBoundedBody } from './read-body.js';

/** Options of createChunkServer. */
export interface ChunkServerOptions {
  /**
   * Accept PUT of chunks. Default false (PUT answers 405). Uploads are decompressed and
   * hashed against the id in the path before they are stored.
   */
  writable?: boolean;
  /**
   * Where uploads go when `writable`; default the served store itself, which must then be
   * a WriteStore. Pass the first `-s` store when serving a chain (a cache cannot take writes).
   */
  writeStore?: WriteStore;
  /** Largest upload body in bytes; larger ones get 413. Default 16 MiB + 64 KiB. */
  maxUploadBytes?: number;
  /**
   * A shared secret: when set, every request needs `Authorization: Bearer TOKEN` or Basic
   * credentials with the token as password (or as `user:password`). Default: no auth.
   */
  auth?: string;
  /**
   * A directory whose `.caibx`/`.caidx` files are served read-only at their relative path
   * (`GET /images/v2.caibx`), so clients can extract from an index URL. Default: none.
   */
  indexDir?: string;
  /** Receives one line per request (`METHOD PATH STATUS BYTES MS`). Default: no request log. */
  log?: (line: string) => void;
  /**
   * Told about every failure that is the server's fault (5xx): a corrupt chunk in the
   * backend, a backend that fails. Clients only get a fixed text. Default: one line on stderr.
   */
  onError?: (err: unknown) => void;
}

// casync's largest chunk is 128 MiB, but stores made with sane sizes (max 256 KiB by default)
// never come close; 16 MiB plus zstd's worst-case overhead bounds memory per upload.
const DEFAULT_MAX_UPLOAD = (16 << 20) + (64 << 10);

function logToStderr(err: unknown): void {
  process.stderr.write(`chunk-server: ${err instanceof Error ? err.message : String(err)}\n`);
}

/**
 * The chunk server as a hono app: `app.fetch` serves casync's store layout over HTTP from
 * any Store (local, remote, a chain behind a cache), and `app.request` tests it in memory.
 *
 * - GET `/<4 hex>/<64 hex>.cacnk` answers the chunk's zstd frame, verified against the id
 *   first (a corrupt chunk is a 502, never sent); HEAD answers 200 or 404 from hasChunk.
 * - PUT stores an upload when `writable`; other methods get 405, other paths 400.
 * - With `indexDir`, GET and HEAD of `/…/name.caibx` or `.caidx` serve that directory's indexes.
 */
export function createChunkServer(store: Store, options: ChunkServerOptions = {}): Hono {
  const writable = options.writable ?? false;
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD;
  const onError = options.onError ?? logToStderr;
  let target: WriteStore | undefined;
  if (writable) {
    const candidate = options.writeStore ?? store;
    if (!isWriteStore(candidate)) {
      throw new InvalidArgument(`the store ${candidate} cannot be written; serve it without --writable`);
    }
    target = candidate;
  }
  const allowed = writable ? 'GET, HEAD, PUT' : 'GET, HEAD';

  const app = new Hono();
  if (options.log) app.use(requestLog(options.log));
  if (options.auth !== undefined) app.use(tokenAuth({ token: options.auth }));

  app.onError((err, c) => {
    if (isServerFault(err)) onError(err);
    const reply = errorReply(err);
    return c.text(reply.text, reply.status);
  });

  app.all('*', async (c) => {
    const pathname = new URL(c.req.url).pathname;
    if (options.indexDir !== undefined && isIndexPath(pathname)) {
      return serveIndex(c, options.indexDir, pathname);
    }
    const id = parseChunkPath(pathname);
    if (!id) return c.text('bad request: expected /<4 hex>/<64 hex>.cacnk', 400);
    // hono runs HEAD through the GET route; the request keeps its own method.
    const method = c.req.raw.method;
    if (method === 'HEAD') return headChunk(c, store, id);
    if (method === 'GET') return getChunk(c, store, id);
    if (method === 'PUT' && target) return putChunk(c, target, id, maxUploadBytes);
    c.header('Allow', allowed);
    return c.text('method not allowed', 405);
  });
  return app;
}

async function serveIndex(c: Context, dir: string, pathname: string): Promise<Response> {
  const method = c.req.raw.method;
  if (method !== 'GET' && method !== 'HEAD') {
    c.header('Allow', 'GET, HEAD');
    return c.text('method not allowed', 405);
  }
  const file = await openIndexFile(dir, pathname);
  if (!file) return c.text('not found', 404);
  const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(file.size) };
  return method === 'HEAD' ? c.body(null, 200, headers) : c.body(file.body(), 200, headers);
}

async function headChunk(c: Context, store: Store, id: ChunkId): Promise<Response> {
  if (!(await store.hasChunk(id))) return c.body(null, 404);
  return c.body(null, 200, { 'Content-Type': 'application/octet-stream' });
}

async function getChunk(c: Context, store: Store, id: ChunkId): Promise<Response> {
  const chunk = await store.getChunk(id, { signal: c.req.raw.signal });
  // A store hands out its frame as read; only plainData() checks it against the id.
  await chunk.plainData();
  const frame = await chunk.compressedData();
  return c.body(frame as Uint8Array<ArrayBuffer>, 200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(frame.length),
  });
}

async function putChunk(c: Context, target: WriteStore, id: ChunkId, limit: number): Promise<Response> {
  const declared = Number(c.req.header('content-length'));
  // Refused before reading when the client says up front that the body is too large.
  if (declared > limit) throw new UploadTooLarge(limit);
  const frame = await readBoundedBody(c.req.raw.body, limit);
  const chunk = Chunk.fromCompressed(id, frame, { source: 'upload' });
  let plain: Uint8Array;
  try {
    plain = await chunk.plainData();
  } catch (err) {
    if (err instanceof ChunkInvalid) throw new UploadRejected(err.reason, { cause: err });
    throw err;
  }
  // casync reads a chunk file only when it is exactly one zstd frame: an upload of several
  // frames (or with trailing bytes) is stored re-encoded as one.
  await target.storeChunk(zstdFrameLength(frame) === frame.length ? chunk : Chunk.fromPlain(plain, id));
  return c.text('stored', 200);
}
