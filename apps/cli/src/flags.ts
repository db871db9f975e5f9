import { type ChunkSizes, DEFAULT_CHUNK_SIZES, parseChunkSizeSpec } from '@desync/chunker';
import type { StoreOpenOptions } from '@desync/core';
import { Flags } from '@oclif/core';
import { type ConfigDefaults, loadConfig, settingsToOpenOptions, storeEntryFor } from './config-file.js';

/**
 * A default from the config file's `defaults`, for a flag's `default` function. The file is
 * the one --config names when the command has that flag (oclif passes the flags given),
 * else DESYNC_CONFIG's or the default one. A broken file is reported where stores are opened
 * (or by `desync config`), not here: help must work whatever the file holds.
 */
function configDefault<K extends keyof ConfigDefaults>(
  key: K,
  fallback: NonNullable<ConfigDefaults[K]>,
): (context: { flags: Record<string, string> }) => Promise<NonNullable<ConfigDefaults[K]>> {
  return async ({ flags }) => {
    try {
      return loadConfig(flags.config).config.defaults[key] ?? fallback;
    } catch {
      return fallback;
    }
  };
}

/** `-s STORE`, repeatable: stores asked in order. */
export const storeFlag = Flags.string({
  char: 's',
  description:
    'chunk store (a directory or URL); repeat to ask several in order; "A|B" is a failover group of mirrors',
  multiple: true,
  // `-s a -s b INDEX OUT`: each -s takes one value, so positional arguments may follow.
  multipleNonGreedy: true,
  required: true,
});

/** `-s STORE`, repeatable and optional: the stores of an index, when the input is one. */
export const indexStoreFlag = Flags.string({
  char: 's',
  description:
    'chunk store holding the index chunks; repeat to ask several in order; "A|B" is a failover group',
  multiple: true,
  multipleNonGreedy: true,
});

/** `-s STORE`, repeatable and optional: stores to look chunks up in (info). */
export const lookupStoreFlag = Flags.string({
  char: 's',
  description: 'chunk store to look the unique chunks up in; repeat to ask several',
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
  description: 'number of chunks processed at once (config defaults.concurrency, else 10)',
  default: configDefault('concurrency', 10),
  defaultHelp: 10,
  min: 1,
});

/** `-m min:avg:max` in KiB. */
export const chunkSizeFlag = Flags.string({
  char: 'm',
  description: 'min:avg:max chunk size in KiB (config defaults.chunkSize, else 16:64:256)',
  default: configDefault('chunkSize', '16:64:256'),
  defaultHelp: '16:64:256',
});

/** `--json`: machine-readable output on stdout, described by each command. */
export const jsonFlag = Flags.boolean({
  description: 'print JSON instead of text (see the command description for its shape)',
  default: false,
});

/** `--progress auto|none|json`: how long operations report progress on stderr (see progressBar). */
export const progressFlag = Flags.string({
  description:
    'progress on stderr: auto (a bar on a terminal), none, or json (one JSON object per line: event, operation, unit, done, total)',
  options: ['auto', 'none', 'json'],
  default: 'auto',
  env: 'DESYNC_PROGRESS',
});

/** Resolves `-m`. */
export function chunkSizesFrom(spec: string | undefined): ChunkSizes {
  return spec ? parseChunkSizeSpec(spec) : DEFAULT_CHUNK_SIZES;
}

/** `--config PATH`: the config file (else DESYNC_CONFIG, else ~/.config/desync/config.json). */
export const configFlag = Flags.string({
  description: 'config file with per-store settings and defaults (default ~/.config/desync/config.json)',
  env: 'DESYNC_CONFIG',
});

/**
 * Settings of network stores, shared by every command that opens stores. Flags without a
 * default, so a flag left out lets the config file's value through (flags win over it).
 */
export const storeOptionFlags = {
  'trust-insecure': Flags.boolean({
    char: 't',
    description: 'trust any TLS certificate of HTTPS stores (self-signed)',
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
    description: 'attempts after a network error or 5xx answer before failing (default 3)',
    min: 0,
  }),
  'ssh-skip-host-key-check': Flags.boolean({
    description: 'accept any SSH host key instead of checking ~/.ssh/known_hosts',
    default: false,
  }),
  uncompressed: Flags.boolean({
    description:
      'stores keep chunks uncompressed (desync layout <4 hex>/<id>, no .cacnk); also per store in the config',
    default: false,
  }),
  config: configFlag,
};

/** The parsed flags storeOpenOptions and optionsForLocation read. */
export interface StoreOptionValues {
  'trust-insecure'?: boolean | undefined;
  'client-cert'?: string | undefined;
  'client-key'?: string | undefined;
  'ca-cert'?: string | undefined;
  'http-auth'?: string | undefined;
  timeout?: number | undefined;
  'error-retry'?: number | undefined;
  'ssh-skip-host-key-check'?: boolean | undefined;
  uncompressed?: boolean | undefined;
  concurrency?: number | undefined;
  config?: string | undefined;
}

/** Settings for any store, before the config file: built-in defaults, then the flags given. */
const BUILT_IN: StoreOpenOptions = { insecure: false, retries: 3 };

function fromFlags(flags: StoreOptionValues): StoreOpenOptions {
  const options: StoreOpenOptions = {};
  if (flags['trust-insecure'] !== undefined) options.insecure = flags['trust-insecure'];
  if (flags['error-retry'] !== undefined) options.retries = flags['error-retry'];
  if (flags['ssh-skip-host-key-check'] !== undefined)
    options.sshSkipHostKeyCheck = flags['ssh-skip-host-key-check'];
  if (flags.uncompressed) options.uncompressed = true;
  if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
  if (flags.timeout !== undefined) options.timeoutMs = flags.timeout * 1000;
  if (flags['client-cert'] !== undefined) options.clientCert = flags['client-cert'];
  if (flags['client-key'] !== undefined) options.clientKey = flags['client-key'];
  if (flags['ca-cert'] !== undefined) options.caCert = flags['ca-cert'];
  if (flags['http-auth'] !== undefined) options.httpAuth = flags['http-auth'];
  return options;
}

/**
 * The StoreOpenOptions for one store location: built-in defaults, overridden by the config
 * file's entry for the location, overridden by the flags given.
 */
export function optionsForLocation(location: string, flags: StoreOptionValues): StoreOpenOptions {
  const entry = storeEntryFor(loadConfig(flags.config).config, location);
  const configured = entry ? settingsToOpenOptions(entry.settings) : {};
  return { ...BUILT_IN, ...configured, ...fromFlags(flags) };
}

/**
 * Store settings as both a plain StoreOpenOptions (the flags over built-in defaults, for
 * callers that take one object) and a function of the location (flags over the config
 * file's entry for it), which openStoreChain and openWriteStore call for each store.
 */
export type StoreOpenOptionsResolver = StoreOpenOptions & ((location: string) => StoreOpenOptions);

/**
 * The settings storeOptionFlags (and -n, when the command has it) describe, with the config
 * file's per-store entries applied wherever a store is opened through @desync/engine.
 * Reading the config here makes a malformed file fail before any store is opened.
 */
export function storeOpenOptions(flags: StoreOptionValues): StoreOpenOptionsResolver {
  loadConfig(flags.config);
  const resolve = (location: string) => optionsForLocation(location, flags);
  return Object.assign(resolve, BUILT_IN, fromFlags(flags));
}
