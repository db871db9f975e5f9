import { DesyncError } from '@desync/core';

/** The status and fixed text a client gets for one error code. */
interface ErrorReply {
  readonly status: 400 | 404 | 413 | 500 | 502 | 503;
  readonly text: string;
}

/**
 * Error code → HTTP answer: one table for the whole server. The texts are fixed on
 * purpose: backend messages name paths, hosts and URLs that clients must not learn.
 */
const ERROR_REPLIES: Readonly<Record<string, ErrorReply>> = {
  CHUNK_MISSING: { status: 404, text: 'chunk not found' },
  // The backend holds bytes that do not match the id: the server's fault, not the client's.
  CHUNK_INVALID: { status: 502, text: 'chunk in the backing store is corrupt' },
  STORE_ERROR: { status: 502, text: 'backing store failed' },
  INVALID_ARGUMENT: { status: 400, text: 'bad request' },
  UPLOAD_REJECTED: { status: 400, text: 'chunk does not match its id' },
  UPLOAD_TOO_LARGE: { status: 413, text: 'chunk too large' },
  ABORTED: { status: 503, text: 'server shutting down' },
};

const INTERNAL: ErrorReply = { status: 500, text: 'internal error' };

/** The answer for `err`; anything that is not a known DesyncError is a 500. */
export function errorReply(err: unknown): ErrorReply {
  return (err instanceof DesyncError && ERROR_REPLIES[err.code]) || INTERNAL;
}

/**
 * True when `err` is worth an operator's attention: not a miss, a client mistake, or a
 * request aborted because its client went away or the server is stopping.
 */
export function isServerFault(err: unknown): boolean {
  const { status } = errorReply(err);
  return status === 500 || status === 502;
}
