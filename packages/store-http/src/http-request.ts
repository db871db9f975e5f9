import {
  type Agent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { onAbort } from './abort-listeners.js';

/** One request as sendRequest makes it. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT';
  url: URL;
  /** An https.Agent for https: URLs, an http.Agent otherwise. */
  agent: Agent;
  headers: OutgoingHttpHeaders;
  /** Sent as the whole body, with its Content-Length. */
  body?: Uint8Array;
  /** Milliseconds from getting a connection to the last byte of the answer. */
  timeoutMs: number;
  /** A larger answer body fails with ResponseTooLarge instead of filling memory. */
  maxBodyBytes: number;
  /** Aborting destroys the request; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A complete answer. */
export interface HttpResponse {
  status: number;
  statusText: string;
  /** The whole body of a 2xx answer; empty for HEAD and for other statuses. */
  body: Buffer;
}

/** No complete answer came within the request's timeout. */
export class RequestTimeout extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
  }
}

/** The connection closed before the whole answer came (a reset or a crashed server). */
export class ConnectionClosed extends Error {
  readonly code = 'ECONNRESET';
  constructor() {
    super('the connection closed before the answer was complete');
  }
}

/** The answer was larger than any chunk can be. */
export class ResponseTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the answer is larger than ${limit} bytes, more than any chunk`);
  }
}

/**
 * Sends one request and reads the whole answer. Rejects with the transport's error
 * (ECONNRESET, TLS errors…), RequestTimeout or ResponseTooLarge; an HTTP error status is a
 * response, not a rejection. These errors stay inside the package: HttpStore turns them into
 * StoreError.
 */
export function sendRequest(options: HttpRequest): Promise<HttpResponse> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const send = options.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = { ...options.headers };
    if (options.body) headers['content-length'] = options.body.length;
    const req = send(options.url, { method: options.method, agent: options.agent, headers });
    let settled = false;
    const finish = (error: unknown, response?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      if (error === undefined) resolve(response!);
      else {
        reject(error);
        // A half-read answer leaves the socket unusable for the next request.
        req.destroy();
      }
    };
    const unsubscribe = signal && onAbort(signal, () => finish(signal.reason));
    // A total deadline, not an idle one: a server trickling bytes must not hold a slot forever.
    // It starts when the agent gives the request a socket, so time spent queued behind
    // maxSockets (more callers than connections) does not count.
    let timer: NodeJS.Timeout | undefined;
    req.once('socket', () => {
      if (!settled)
        timer = setTimeout(() => finish(new RequestTimeout(options.timeoutMs)), options.timeoutMs);
    });
    req.on('error', (err) => finish(err));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const statusText = res.statusMessage ?? '';
      res.on('error', (err) => finish(err));
      res.on('close', () => {
        if (!res.complete) finish(new ConnectionClosed());
      });
      if (options.method === 'HEAD' || status < 200 || status > 299) {
        // Drained, not kept: error pages are not chunks, and draining lets keep-alive reuse the socket.
        res.resume();
        res.on('end', () => finish(undefined, { status, statusText, body: Buffer.alloc(0) }));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (declared > options.maxBodyBytes) {
        finish(new ResponseTooLarge(options.maxBodyBytes));
        return;
      }
      const pieces: Buffer[] = [];
      let received = 0;
      res.on('data', (piece: Buffer) => {
        received += piece.length;
        if (received > options.maxBodyBytes) finish(new ResponseTooLarge(options.maxBodyBytes));
        else pieces.push(piece);
      });
      res.on('end', () => finish(undefined, { status, statusText, body: Buffer.concat(pieces, received) }));
    });
    req.end(options.body);
  });
}
