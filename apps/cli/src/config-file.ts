import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseChunkSizeSpec } from '@desync/chunker';
import { describeSystemError, FileError, InvalidArgument, type StoreOpenOptions } from '@desync/core';

/**
 * Settings of the stores whose location an entry of `stores` names. Field names are
 * desync's StoreOptions in camelCase; desync's kebab-case spellings (`error-retry`, …) are
 * read too, so a desync `store-options` block can be pasted in.
 */
export interface StoreSettings {
  /** Seconds before a network request is given up (desync counts nanoseconds here). */
  timeout?: number;
  /** Attempts after a network error or 5xx answer (`--error-retry`). */
  errorRetry?: number;
  /** Trust any TLS certificate (`-t`). */
  trustInsecure?: boolean;
  /** PEM client certificate (`--client-cert`). */
  clientCert?: string;
  /** PEM key of clientCert (`--client-key`). */
  clientKey?: string;
  /** PEM certificate authorities (`--ca-cert`). */
  caCert?: string;
  /** Authorization header value for HTTP stores (`--http-auth`). */
  httpAuth?: string;
  /** desync's uncompressed stores: plain chunk files `<4 hex>/<id>` (local, HTTP, S3). */
  uncompressed?: boolean;
}

/** Values used when a flag is not given. */
export interface ConfigDefaults {
  /** `-n`. */
  concurrency?: number;
  /** `-m`, min:avg:max in KiB. */
  chunkSize?: string;
}

/** The content of config.json. */
export interface DesyncConfig {
  /** Settings by store location: an exact location or a prefix of locations (`https://host/`). */
  stores: Record<string, StoreSettings>;
  defaults: ConfigDefaults;
}

/** A config file as found. */
export interface LoadedConfig {
  /** The file looked for. */
  path: string;
  /** False when the default file does not exist (an empty configuration). */
  found: boolean;
  config: DesyncConfig;
}

type FieldType = 'number' | 'boolean' | 'string';
const STORE_FIELDS: Record<keyof StoreSettings, FieldType> = {
  timeout: 'number',
  errorRetry: 'number',
  trustInsecure: 'boolean',
  clientCert: 'string',
  clientKey: 'string',
  caCert: 'string',
  httpAuth: 'string',
  uncompressed: 'boolean',
};
const DEFAULT_FIELDS: Record<keyof ConfigDefaults, FieldType> = {
  concurrency: 'number',
  chunkSize: 'string',
};

/** Fields never printed: credentials, and paths to them (a key file's name says where it is). */
const SECRET_FIELDS: readonly (keyof StoreSettings)[] = ['httpAuth', 'clientKey'];

/** `error-retry` → `errorRetry`, so desync's spellings are read as ours. */
function camel(key: string): string {
  return key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The config file to read: `--config`, else DESYNC_CONFIG, else ~/.config/desync/config.json. */
export function configPath(explicit?: string): { path: string; explicit: boolean } {
  const chosen = explicit ?? process.env.DESYNC_CONFIG;
  if (chosen) return { path: chosen, explicit: true };
  return { path: join(homedir(), '.config', 'desync', 'config.json'), explicit: false };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readFields<T>(raw: unknown, fields: Record<string, FieldType>, where: string, file: string): T {
  if (!isRecord(raw)) throw new InvalidArgument(`${file}: ${where} must be an object`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = camel(key);
    const type = fields[name];
    if (!type) {
      throw new InvalidArgument(
        `${file}: unknown setting '${key}' in ${where}; known: ${Object.keys(fields).join(', ')}`,
      );
    }
    if (typeof value !== type) throw new InvalidArgument(`${file}: ${where}.${key} must be a ${type}`);
    if (type === 'number' && (!Number.isFinite(value) || (value as number) < 0)) {
      throw new InvalidArgument(`${file}: ${where}.${key} must be a number >= 0`);
    }
    if (name === 'errorRetry' && !Number.isInteger(value)) {
      throw new InvalidArgument(`${file}: ${where}.${key} must be an integer`);
    }
    out[name] = value;
  }
  return out as T;
}

// Flags check their own values; defaults from the file never pass through that check.
function checkDefaults(defaults: ConfigDefaults, file: string): void {
  const n = defaults.concurrency;
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
    throw new InvalidArgument(`${file}: defaults.concurrency must be an integer >= 1`);
  }
  if (defaults.chunkSize !== undefined) {
    try {
      parseChunkSizeSpec(defaults.chunkSize);
    } catch (err) {
      throw new InvalidArgument(`${file}: defaults.chunkSize: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Checks and normalizes the parsed JSON of a config file. */
export function parseConfig(raw: unknown, file: string): DesyncConfig {
  if (!isRecord(raw)) throw new InvalidArgument(`${file}: the configuration must be a JSON object`);
  const config: DesyncConfig = { stores: {}, defaults: {} };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'stores' || key === 'store-options') {
      if (!isRecord(value)) throw new InvalidArgument(`${file}: ${key} must be an object`);
      for (const [location, settings] of Object.entries(value)) {
        config.stores[location] = readFields<StoreSettings>(
          settings,
          STORE_FIELDS,
          `${key}["${location}"]`,
          file,
        );
      }
    } else if (key === 'defaults') {
      config.defaults = readFields<ConfigDefaults>(value, DEFAULT_FIELDS, 'defaults', file);
      checkDefaults(config.defaults, file);
    } else {
      throw new InvalidArgument(`${file}: unknown key '${key}'; known: stores, defaults`);
    }
  }
  return config;
}

// Every command reads the file once, however many stores and flags ask.
const cache = new Map<string, LoadedConfig>();

/**
 * Reads the config file (see configPath). A missing default file is an empty configuration;
 * a missing file named by --config or DESYNC_CONFIG is an error, as is malformed JSON.
 */
export function loadConfig(explicit?: string): LoadedConfig {
  const { path, explicit: named } = configPath(explicit);
  const cached = cache.get(path);
  if (cached) return cached;
  let loaded: LoadedConfig;
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (named || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new FileError(path, `cannot read the config file: ${describeSystemError(err)}`, { cause: err });
    }
  }
  if (text === undefined) {
    loaded = { path, found: false, config: { stores: {}, defaults: {} } };
  } else {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new InvalidArgument(`${path}: not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    loaded = { path, found: true, config: parseConfig(raw, path) };
  }
  cache.set(path, loaded);
  return loaded;
}

/** Drops what loadConfig remembered (tests that rewrite the file). */
export function forgetConfig(): void {
  cache.clear();
}

function trimSlash(s: string): string {
  return s.length > 1 ? s.replace(/\/+$/, '') : s;
}

/**
 * The entry of `stores` for `location`: the one naming it exactly (trailing slashes aside),
 * else the longest key that is a prefix of it, so `https://host/` covers every store there
 * and a longer key refines it.
 */
export function storeEntryFor(
  config: DesyncConfig,
  location: string,
): { key: string; settings: StoreSettings } | undefined {
  let best: string | undefined;
  for (const key of Object.keys(config.stores)) {
    if (trimSlash(key) === trimSlash(location)) return { key, settings: config.stores[key] };
    if (location.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : { key: best, settings: config.stores[best] };
}

/** StoreOpenOptions that config settings describe. */
export function settingsToOpenOptions(settings: StoreSettings): StoreOpenOptions {
  const options: StoreOpenOptions = {};
  if (settings.uncompressed !== undefined) options.uncompressed = settings.uncompressed;
  if (settings.timeout !== undefined) options.timeoutMs = settings.timeout * 1000;
  if (settings.errorRetry !== undefined) options.retries = settings.errorRetry;
  if (settings.trustInsecure !== undefined) options.insecure = settings.trustInsecure;
  if (settings.clientCert !== undefined) options.clientCert = settings.clientCert;
  if (settings.clientKey !== undefined) options.clientKey = settings.clientKey;
  if (settings.caCert !== undefined) options.caCert = settings.caCert;
  if (settings.httpAuth !== undefined) options.httpAuth = settings.httpAuth;
  return options;
}

/** The configuration with secrets replaced by `***`, for `desync config`. */
export function maskedConfig(config: DesyncConfig): DesyncConfig {
  const stores: Record<string, StoreSettings> = {};
  for (const [location, settings] of Object.entries(config.stores)) {
    const copy: Record<string, unknown> = { ...settings };
    for (const field of SECRET_FIELDS) if (copy[field] !== undefined) copy[field] = '***';
    // A location may carry credentials too: https://user:password@host/.
    stores[location.replace(/\/\/[^/@]*@/, '//***@')] = copy as StoreSettings;
  }
  return { stores, defaults: { ...config.defaults } };
}
