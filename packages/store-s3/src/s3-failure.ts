import { StoreError } from '@desync/core';

/** The parts of an SDK or network error this module looks at. */
interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

/** S3 error codes that mean the credentials are missing, wrong or lack permission. */
const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
]);

/** The HTTP status of an SDK error, when the server answered. */
export function httpStatusOf(err: unknown): number | undefined {
  return (err as ErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** The system error code (ECONNREFUSED, ...) of a network failure, also inside an AggregateError. */
function systemCode(err: unknown): string | undefined {
  const e = err as ErrorShape | undefined;
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
  // Node's happy eyeballs (autoSelectFamily) rejects with an AggregateError of one per address.
  for (const inner of e?.errors ?? []) {
    const code = systemCode(inner);
    if (code) return code;
  }
  return undefined;
}

/**
 * Turns an SDK or network error into one StoreError line naming the store URL and what to do.
 * The SDK's own messages can span lines or quote request details; only their error name and
 * first line are kept, and never a credential (the SDK does not put them in messages).
 */
export function s3Failure(store: string, what: string, err: unknown, bucket: string): StoreError {
  return new StoreError(store, describeS3Error(what, err, bucket), { cause: err });
}

function describeS3Error(what: string, err: unknown, bucket: string): string {
  const e = (err ?? {}) as ErrorShape;
  const name = e.name ?? '';
  const status = httpStatusOf(err);
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(e.message ?? '')) {
    return 'no S3 credentials: set S3_ACCESS_KEY and S3_SECRET_KEY, or configure the AWS SDK (AWS_PROFILE, ~/.aws/credentials)';
  }
  if (CREDENTIAL_ERRORS.has(name) || status === 403) {
    const code = CREDENTIAL_ERRORS.has(name) ? name : 'access denied';
    return `${what}: credentials rejected (${code}); check S3_ACCESS_KEY, S3_SECRET_KEY and the bucket's permissions`;
  }
  if (name === 'NoSuchBucket') return `bucket '${bucket}' does not exist; create it or check the URL`;
  switch (systemCode(err)) {
    case 'ECONNREFUSED':
      return `${what}: connection refused; is the S3 server running at that host and port?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${what}: host not found; check the URL`;
    case 'ECONNRESET':
      return `${what}: connection reset by the server`;
    case 'ETIMEDOUT':
      return `${what}: timed out; check the network or raise --timeout`;
  }
  if (name === 'TimeoutError' || name === 'RequestTimeout') return `${what}: timed out; raise --timeout`;
  const firstLine = (e.message ?? String(err)).split('\n')[0].trim();
  const label = name && name !== 'Error' && !firstLine.startsWith(name) ? `${name}: ` : '';
  const statusText = status !== undefined ? ` (HTTP ${status})` : '';
  return `${what}: ${label}${firstLine || 'unknown error'}${statusText}`;
}
