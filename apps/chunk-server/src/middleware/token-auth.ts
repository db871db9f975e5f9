import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

/** Options of tokenAuth. */
export interface TokenAuthOptions {
  /** The shared secret clients must present. Must not be empty. */
  token: string;
  /** Realm named in the WWW-Authenticate challenge. Default `desync`. */
  realm?: string;
}

// Comparing digests keeps timingSafeEqual's equal-length rule without leaking the length.
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Accepts a request whose Authorization header is `Bearer TOKEN`, or Basic credentials whose
 * password, or whole `user:password`, is the token (curl and casync send a URL's
 * `user:pass@` as Basic). Anything else gets 401 with a challenge for both schemes.
 */
export function tokenAuth(options: TokenAuthOptions): MiddlewareHandler {
  if (options.token === '') throw new TypeError('tokenAuth: the token must not be empty');
  const expected = digest(options.token);
  const realm = options.realm ?? 'desync';
  const matches = (candidate: string) => timingSafeEqual(digest(candidate), expected);
  return async function tokenAuthMiddleware(c, next) {
    const header = c.req.header('authorization') ?? '';
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const credentials = header.slice(space + 1).trim();
    let ok = false;
    if (space > 0 && scheme === 'bearer') {
      ok = matches(credentials);
    } else if (space > 0 && scheme === 'basic') {
      const pair = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = pair.indexOf(':');
      // Both are checked, whatever the first answer, so timing does not tell which form matched.
      const byPassword = colon >= 0 && matches(pair.slice(colon + 1));
      const byPair = matches(pair);
      ok = byPassword || byPair;
    }
    if (!ok) {
      c.header('WWW-Authenticate', `Bearer realm="${realm}", Basic realm="${realm}"`);
      return c.text('unauthorized', 401);
    }
    await next();
  };
}
