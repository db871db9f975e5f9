import { type ChunkSizes, DEFAULT_CHUNK_SIZES, parseChunkSizeSpec } from '@desync/chunker';
import type { StoreOpenOptions } from '@desync/core';
import { Flags } from '@oclif/core';

/** `-s STORE`, repeatable: stores asked in order. */
export const storeFlag = Flags.string({
  char: 's',
  description: 'chunk store (a directory); repeat to ask several in order',
  multiple: true,
  // `-s a -s b INDEX OUT`: each -s takes one value, so positional arguments may follow.
  multipleNonGreedy: true,
  required: true,
});

/** `-s STORE`, repeatable and optional: the stores of an index, when the input is one. */
export const indexStoreFlag = Flags.string({
  char: 's',
  description: 'chunk store holding the index chunks; repeat to ask several in order',
  multiple: true,
  multipleNonGreedy: true,
});

/** `-s STORE` for commands that write to one store. */
export const writeStoreFlag = Flags.string({
  char: 's',
  description: 'chunk store to write to (a directory, created if missing)',
  required: true,
});

/** `-c CACHE`: a store in front of the others, filled on misses. */
export const cacheFlag = Flags.string({
  char: 'c',
  description: 'store used as a cache: read first, filled with chunks fetched from -s',
});

/** `-n N`: concurrent operations. */
export const concurrencyFlag = Flags.integer({
  char: 'n',
  description: 'number of chunks processed at once',
  default: 10,
  min: 1,
});

/** `-m min:avg:max` in KiB. */
export const chunkSizeFlag = Flags.string({
  char: 'm',
  description: 'min:avg:max chunk size in KiB',
  default: '16:64:256',
});

/** Resolves `-m`. */
export function chunkSizesFrom(spec: string | undefined): ChunkSizes {
  return spec ? parseChunkSizeSpec(spec) : DEFAULT_CHUNK_SIZES;
}

/** Settings of network stores, shared by every command that opens stores. */
export const storeOptionFlags = {
  'trust-insecure': Flags.boolean({
    char: 't',
    description: 'trust any TLS certificate of HTTPS stores (self-signed)',
    default: false,
  }),
  'client-cert': Flags.string({ description: 'PEM client certificate for HTTPS stores (mutual TLS)' }),
  'client-key': Flags.string({ description: 'PEM key of --client-cert' }),
  'ca-cert': Flags.string({ description: 'PEM certificate authorities to trust for HTTPS stores' }),
  'http-auth': Flags.string({
    description: 'Authorization header value for HTTP stores, e.g. "Bearer TOKEN"',
    env: 'DESYNC_HTTP_AUTH',
  }),
  timeout: Flags.integer({ description: 'seconds before a network request is given up', min: 1 }),
  'error-retry': Flags.integer({
    description: 'attempts after a network error or 5xx answer before failing',
    default: 3,
    min: 0,
  }),
  'ssh-skip-host-key-check': Flags.boolean({
    description: 'accept any SSH host key instead of checking ~/.ssh/known_hosts',
    default: false,
  }),
};

/** The StoreOpenOptions that storeOptionFlags (and -n, when the command has it) describe. */
export function storeOpenOptions(flags: {
  'trust-insecure': boolean;
  'client-cert'?: string | undefined;
  'client-key'?: string | undefined;
  'ca-cert'?: string | undefined;
  'http-auth'?: string | undefined;
  timeout?: number | undefined;
  'error-retry': number;
  'ssh-skip-host-key-check': boolean;
  concurrency?: number | undefined;
}): StoreOpenOptions {
  const options: StoreOpenOptions = {
    insecure: flags['trust-insecure'],
    retries: flags['error-retry'],
    sshSkipHostKeyCheck: flags['ssh-skip-host-key-check'],
  };
  if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
  if (flags.timeout !== undefined) options.timeoutMs = flags.timeout * 1000;
  if (flags['client-cert'] !== undefined) options.clientCert = flags['client-cert'];
  if (flags['client-key'] !== undefined) options.clientKey = flags['client-key'];
  if (flags['ca-cert'] !== undefined) options.caCert = flags['ca-cert'];
  if (flags['http-auth'] !== undefined) options.httpAuth = flags['http-auth'];
  return options;
}
