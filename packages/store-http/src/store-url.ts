import { InvalidArgument } from '@desync/core';

/** A store location split into the URL requests go to and the credentials it carried. */
export interface StoreUrl {
  /** The store's base URL without user, password, query or fragment; its path ends with `/`. */
  readonly base: URL;
  /** `Basic …` from `http://user:pass@host/`, or undefined when the URL holds no user. */
  readonly basicAuth: string | undefined;
}

function decodeCredential(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (err) {
    // Never quote it: it is a user name or password.
    throw new InvalidArgument('the user or password in the store URL is not valid percent-encoding', {
      cause: err,
    });
  }
}

/**
 * Parses an `http://` or `https://` store location. Credentials in the URL become a Basic
 * Authorization value and are removed from the URL, so nothing derived from `base` (toString,
 * error messages) can show them.
 */
export function parseStoreUrl(location: string | URL): StoreUrl {
  let url: URL;
  try {
    url = new URL(location);
  } catch (err) {
    // The location may hold a password: name only what is wrong with it.
    throw new InvalidArgument('an HTTP store location must be an absolute http:// or https:// URL', {
      cause: err,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgument(`an HTTP store needs an http:// or https:// URL, not ${url.protocol}//`);
  }
  let basicAuth: string | undefined;
  if (url.username !== '' || url.password !== '') {
    // RFC 7617: user-id ":" password, base64 of the decoded (UTF-8) strings.
    const pair = `${decodeCredential(url.username)}:${decodeCredential(url.password)}`;
    basicAuth = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
  }
  const base = new URL(url.href);
  base.username = '';
  base.password = '';
  base.search = '';
  base.hash = '';
  // Chunk paths are resolved against the base: without the slash, the last path segment
  // would be replaced instead of kept as a prefix.
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return { base, basicAuth };
}
