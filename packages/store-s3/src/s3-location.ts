import { InvalidArgument } from '@desync/core';

/** Where an `s3+http(s)://` URL points. */
export interface S3Location {
  /** The HTTP(S) endpoint the SDK talks to, e.g. `https://s3.example.com:9000`. */
  endpoint: string;
  bucket: string;
  /** The key prefix of every chunk object: empty, or ending in `/`. */
  prefix: string;
  /** Path-style addressing (`endpoint/bucket/key`) rather than virtual-hosted (`bucket.endpoint/key`). */
  forcePathStyle: boolean;
  /** The URL as given, minus any `user:password@`, for messages. */
  display: string;
}

/** AWS's own endpoints, which take virtual-hosted addressing; every other endpoint gets path-style. */
const AWS_HOST = /(^|\.)amazonaws\.com(\.cn)?$/i;

/**
 * Takes an `s3+https://host[:port]/bucket[/prefix]` URL apart (desync s3.go NewS3Store: the
 * first path segment is the bucket, the rest the prefix). As in desync (README, "S3 chunk
 * stores"), `?lookup=path` or `?lookup=dns` chooses the addressing style; without it (or with
 * `?lookup=auto`) custom endpoints (MinIO, Ceph, a local test server) get path-style, which
 * needs no wildcard DNS, and AWS hosts virtual-hosted style.
 */
export function parseS3Location(url: string): S3Location {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new InvalidArgument(`'${redact(url)}' is not a URL; use s3+https://host/bucket[/prefix]`, {
      cause: err,
    });
  }
  const protocol = parsed.protocol.toLowerCase();
  if (protocol !== 's3+http:' && protocol !== 's3+https:') {
    throw new InvalidArgument(`'${redact(url)}' is not an S3 URL; use s3+https://host/bucket[/prefix]`);
  }
  parsed.username = '';
  parsed.password = '';
  const display = parsed.href;
  if (parsed.hostname === '') throw new InvalidArgument(`'${display}' names no host`);
  const segments = parsed.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s));
  const bucket = segments.shift();
  if (!bucket) {
    throw new InvalidArgument(`'${display}' names no bucket; use s3+https://host/bucket[/prefix]`);
  }
  const lookup = parsed.searchParams.get('lookup');
  if (lookup !== null && lookup !== 'auto' && lookup !== 'path' && lookup !== 'dns') {
    throw new InvalidArgument(`'${display}': lookup must be 'auto', 'path' or 'dns', not '${lookup}'`);
  }
  return {
    endpoint: `${protocol.slice(3)}//${parsed.host}`,
    bucket,
    prefix: segments.length === 0 ? '' : `${segments.join('/')}/`,
    forcePathStyle:
      lookup === null || lookup === 'auto' ? !AWS_HOST.test(parsed.hostname) : lookup === 'path',
    display,
  };
}

/** `url` with any password replaced, for an error about a URL that does not parse. */
function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}
