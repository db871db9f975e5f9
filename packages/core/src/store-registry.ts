import { InvalidArgument } from './errors.js';
import type { Store, WriteStore } from './store.js';

/** Settings every adapter may honour when it opens a store location. */
export interface StoreOpenOptions {
  /** Concurrent operations the caller will run (`-n`); adapters size pools from it. Default 10. */
  concurrency?: number;
  /** Per-request timeout in milliseconds for network stores. */
  timeoutMs?: number;
  /** Trust self-signed certificates (`-t`). */
  insecure?: boolean;
  /** Attempts after a failed request (connection error, 5xx) before giving up. Default 3. */
  retries?: number;
  /** PEM client certificate file for mutual TLS (`--client-cert`). */
  clientCert?: string;
  /** PEM key of the client certificate (`--client-key`). */
  clientKey?: string;
  /** PEM file of certificate authorities to trust besides the system's (`--ca-cert`). */
  caCert?: string;
  /** Value of the Authorization header sent to HTTP stores (`--http-auth`), e.g. `Bearer TOKEN`. */
  httpAuth?: string;
  /**
   * The store keeps chunks uncompressed (desync's `uncompressed` option: plain bytes, no
   * `.cacnk` suffix). Adapters that cannot reject the option.
   */
  uncompressed?: boolean;
  /** Accept any SSH host key instead of checking ~/.ssh/known_hosts (`--ssh-skip-host-key-check`). */
  sshSkipHostKeyCheck?: boolean;
}

/** One store adapter's entry in the registry. */
export interface StoreScheme {
  /** Short name for messages, e.g. `local`, `http`. */
  readonly name: string;
  /** True when this adapter handles `location` (a URL or path). */
  matches(location: string): boolean;
  /** Opens the store; adapters that cannot write return a read-only Store. */
  open(location: string, options: StoreOpenOptions): Store | WriteStore | Promise<Store | WriteStore>;
  /**
   * Reads one whole file (an index) at `location`, a URL of this scheme that names the file
   * itself rather than a store; adapters that cannot leave it out. Rejects with
   * FileError naming the location when it is missing, StoreError for other failures.
   */
  readFile?(location: string, options: StoreOpenOptions): Promise<Uint8Array>;
}

const schemes: StoreScheme[] = [];

/**
 * Adds a store adapter. Adapters register themselves when the CLI (or a library user)
 * imports them; the first registered adapter that matches a location wins.
 */
export function registerStoreScheme(scheme: StoreScheme): void {
  if (!schemes.some((s) => s.name === scheme.name)) schemes.push(scheme);
}

/** The registered adapters, in the order they are tried. */
export function registeredStoreSchemes(): readonly StoreScheme[] {
  return schemes;
}

/** The adapter that handles `location`, if any. */
export function storeSchemeFor(location: string): StoreScheme | undefined {
  return schemes.find((s) => s.matches(location));
}

/** Opens the store at `location` with the first adapter that handles it. */
export async function openStore(location: string, options: StoreOpenOptions = {}): Promise<Store> {
  const scheme = schemes.find((s) => s.matches(location));
  if (!scheme) {
    const known = schemes.map((s) => s.name).join(', ') || 'none';
    throw new InvalidArgument(`no store adapter handles '${location}' (installed: ${known})`);
  }
  return scheme.open(location, options);
}
