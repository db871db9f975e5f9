import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describeSystemError, FileError, InvalidArgument } from '@desync/core';
import { getRequestListener } from '@hono/node-server';
import { type ListenAddress, parseListenAddress } from './listen-address.js';

/** TLS settings: serve HTTPS, optionally requiring client certificates. */
export interface ChunkServerTls {
  /** PEM certificate (chain) file of the server. */
  certFile: string;
  /** PEM private key file of `certFile`. */
  keyFile: string;
  /**
   * PEM file of the authorities that sign client certificates. When set, the server
   * requires a client certificate they signed (mutual TLS) and drops handshakes without one.
   */
  clientCaFile?: string;
}

/** Options of startChunkServer. */
export interface StartChunkServerOptions {
  /** What answers requests: the app from createChunkServer (anything with a fetch handler). */
  app: { fetch: (request: Request, ...rest: never[]) => Response | Promise<Response> };
  /**
   * Addresses to listen on, `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every interface); port 0
   * picks a free port (see `urls`). Default `['127.0.0.1:8080']`.
   */
  listen?: readonly string[];
  /** Serve HTTPS with this certificate; default plain HTTP. */
  tls?: ChunkServerTls;
  /** How long an idle keep-alive connection stays open, in milliseconds. Default 30 000. */
  keepAliveTimeoutMs?: number;
  /** On close, how long in-flight requests may take before their connections are cut, in ms. Default 10 000. */
  shutdownGraceMs?: number;
}

/** A listening chunk server. */
export interface RunningChunkServer {
  /** The base URL of each listener, e.g. `http://127.0.0.1:8080/`, with the real port. */
  readonly urls: readonly string[];
  /** The bound address of each listener. */
  readonly addresses: readonly AddressInfo[];
  /**
   * Stops accepting connections, lets in-flight requests finish (up to `shutdownGraceMs`),
   * closes idle keep-alive connections, and resolves once every listener is closed.
   * Idempotent. Does not close the store.
   */
  close(): Promise<void>;
}

async function readPem(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new FileError(file, describeSystemError(err), { cause: err });
  }
}

const LISTEN_BACKLOG = 8192;

function listen(server: http.Server, address: ListenAddress, spec: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'EADDRINUSE' ? 'address already in use' : describeSystemError(err);
      reject(new InvalidArgument(`cannot listen on ${spec}: ${reason}`, { cause: err }));
    };
    server.once('error', onError);
    // A deep accept queue: with Node's default of 511, a burst of thousands of clients
    // overflows it and the dropped ones wait for TCP retries (seconds). The kernel caps it at
    // net.core.somaxconn.
    server.listen({ port: address.port, host: address.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    // close() only waits for open connections: idle keep-alive ones are closed now, and those
    // that finish a response later are closed by the sweep, so shutdown does not wait for
    // keepAliveTimeout; the grace timer cuts requests that never end.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function urlOf(address: AddressInfo, secure: boolean): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${secure ? 'https' : 'http'}://${host}:${address.port}/`;
}

/**
 * Serves `app` on every listen address (HTTP, or HTTPS with `tls`) and resolves once all
 * listen. If one address fails, those already bound are closed again.
 * @throws InvalidArgument for a malformed or unusable listen address.
 * @throws FileError when a certificate or key file cannot be read.
 */
export async function startChunkServer(options: StartChunkServerOptions): Promise<RunningChunkServer> {
  const specs = options.listen ?? ['127.0.0.1:8080'];
  if (specs.length === 0) throw new InvalidArgument('no listen address given; use -l HOST:PORT');
  const parsed = specs.map(parseListenAddress);
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 30_000;
  const graceMs = options.shutdownGraceMs ?? 10_000;
  // Leaves the global Request/Response alone: a library must not swap a host app's globals.
  const listener = getRequestListener(options.app.fetch as (request: Request) => Promise<Response>, {
    overrideGlobalObjects: false,
  });

  let tlsOptions: https.ServerOptions | undefined;
  if (options.tls) {
    tlsOptions = { cert: await readPem(options.tls.certFile), key: await readPem(options.tls.keyFile) };
    if (options.tls.clientCaFile !== undefined) {
      tlsOptions.ca = await readPem(options.tls.clientCaFile);
      tlsOptions.requestCert = true;
      tlsOptions.rejectUnauthorized = true;
    }
  }

  const servers: http.Server[] = [];
  const addresses: AddressInfo[] = [];
  try {
    for (const [i, address] of parsed.entries()) {
      const server = tlsOptions ? https.createServer(tlsOptions, listener) : http.createServer(listener);
      server.keepAliveTimeout = keepAliveTimeout;
      // Above keepAliveTimeout, so a client reusing a connection just before it expires is
      // not cut off mid-headers; requestTimeout bounds slow uploads.
      server.headersTimeout = keepAliveTimeout + 5_000;
      server.requestTimeout = 120_000;
      servers.push(server);
      addresses.push(await listen(server, address, specs[i]));
    }
  } catch (err) {
    await Promise.all(servers.filter((s) => s.listening).map((s) => closeServer(s, 0)));
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    urls: addresses.map((a) => urlOf(a, tlsOptions !== undefined)),
    addresses,
    close: () => {
      closing ??= Promise.all(servers.map((s) => closeServer(s, graceMs))).then(() => undefined);
      return closing;
    },
  };
}
