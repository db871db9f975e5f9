import type { MiddlewareHandler } from 'hono';

/**
 * Writes one line per request once it is answered: `METHOD PATH STATUS BYTES MS`.
 * BYTES is the response's Content-Length (0 when it has none).
 */
export function requestLog(write: (line: string) => void): MiddlewareHandler {
  return async function requestLogMiddleware(c, next) {
    const start = performance.now();
    await next();
    const ms = Math.round(performance.now() - start);
    const bytes = c.res.headers.get('content-length') ?? '0';
    write(`${c.req.method} ${new URL(c.req.url).pathname} ${c.res.status} ${bytes} ${ms}ms`);
  };
}
