import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

/** Options of startChunkStoreServer. */
export interface ChunkStoreServerOptions {
  /** Directory in casync's layout (`<4 hex>/<id>.cacnk`), served as the store. */
  dir: string;
  /** Path prefix the store lives under, e.g. `/stores/a/`. Default `/`. */
  prefix?: string;
  /** Status PUT answers when the server is read-only (403 or 405); undefined accepts PUT. */
  readOnly?: 403 | 405;
  /** TLS key and certificate (and `requestCert`/`ca` for mutual TLS): serve HTTPS. */
  tls?: HttpsServerOptions;
  /** Authorization header value every request must carry; others get 401. */
  authorization?: string;
  /** Milliseconds to wait before handling each request (a slow server). Default 0. */
  delayMs?: number;
  /** Called with each new connection and its number (from 0) before any byte is read (to reset it). */
  onConnection?: (socket: Socket, n: number) => void;
  /**
   * Called with each request and its number (from 0) before the store handles it; return
   * true when it answered itself (fault injection).
   */
  intercept?: (req: IncomingMessage, res: ServerResponse, n: number) => boolean;
}

/** A running test server. */
export interface ChunkStoreServer {
  /** The store's URL, with a trailing slash, e.g. `http://127.0.0.1:PORT/stores/a/`. */
  url: string;
  /** Requests seen so far, as `METHOD /path`. */
  requests: string[];
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** `<4 hex>/<id>.cacnk` where the directory is the id's first 4 digits (the backreference). */
// The suffix is optional: desync's uncompressed stores name chunks by their id alone.
const CHUNK_PATH = /^([0-9a-f]{4})\/(\1[0-9a-f]{60})(?:\.cacnk)?$/;

/**
 * A minimal HTTP(S) chunk store on 127.0.0.1, as a static file server with PUT would be:
 * GET and HEAD of `<prefix><4 hex>/<id>.cacnk` from `dir`, and PUT written to a temp file and
 * renamed into place, so readers never see a partial chunk.
 */
export async function startChunkStoreServer(options: ChunkStoreServerOptions): Promise<ChunkStoreServer> {
  const prefix = options.prefix ?? '/';
  const requests: string[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const n = requests.length;
    requests.push(`${req.method} ${req.url}`);
    if (options.intercept?.(req, res, n)) return;
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    if (options.authorization !== undefined && req.headers.authorization !== options.authorization) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="store"' }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const match = path.startsWith(prefix) ? CHUNK_PATH.exec(path.slice(prefix.length)) : null;
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const file = join(options.dir, match[1], `${match[2]}.cacnk`);
    if (req.method === 'GET' || req.method === 'HEAD') {
      try {
        if (req.method === 'HEAD') {
          const info = await stat(file);
          res.writeHead(200, { 'content-length': info.size }).end();
        } else {
          const bytes = await readFile(file);
          res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
        }
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    if (req.method === 'PUT') {
      if (options.readOnly !== undefined) {
        req.resume();
        res.writeHead(options.readOnly, { allow: 'GET, HEAD' }).end();
        return;
      }
      const pieces: Buffer[] = [];
      for await (const piece of req) pieces.push(piece as Buffer);
      const tmp = join(options.dir, match[1], `.${match[2]}.cacnk.${randomBytes(6).toString('hex')}.tmp`);
      await mkdir(join(options.dir, match[1]), { recursive: true });
      try {
        await writeFile(tmp, Buffer.concat(pieces));
        await rename(tmp, file);
      } finally {
        await rm(tmp, { force: true });
      }
      res.writeHead(201).end();
      return;
    }
    res.writeHead(405, { allow: 'GET, HEAD, PUT' }).end();
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
      else res.destroy();
    });
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  // For TLS, 'connection' is the raw TCP socket, before the handshake.
  server.on('connection', (socket: Socket) => {
    const n = connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    options.onConnection?.(socket, n);
  });
  // Failed handshakes (a client without the certificate asked for) are part of the tests.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}${prefix}`,
    requests,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
