import { readFile } from 'node:fs/promises';
import { describeSystemError, FileError, InvalidArgument, type WriteStore } from '@desync/core';
import { openStoreChain, openWriteStore } from '@desync/engine';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { cacheFlag, storeFlag, storeOpenOptions, storeOptionFlags } from '../flags.js';

/** The token in an --auth-file: its first line, so a trailing newline is no part of it. */
async function readToken(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FileError(file, describeSystemError(err), { cause: err });
  }
  const token = text.split(/\r?\n/, 1)[0].trim();
  if (token === '') throw new InvalidArgument(`${file}: the auth file is empty`);
  return token;
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export class ChunkServerCommand extends BaseCommand {
  static override description =
    'Serve chunk stores over HTTP(S) in casync layout (/<4 hex>/<id>.cacnk), for casync, desync and HTTP stores. Chunks are verified before they are sent; with -c, chunks fetched from -s fill the cache (a caching proxy). Runs until SIGINT or SIGTERM, then finishes open requests and exits 0.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> -s /var/store',
    '<%= config.bin %> <%= command.id %> -s /var/store -l 127.0.0.1:8080 -l [::1]:8080 --log',
    '<%= config.bin %> <%= command.id %> -s https://upstream/store -c /var/cache -l :8080',
    '<%= config.bin %> <%= command.id %> -s /var/store --writable --auth-file /etc/desync/token',
    '<%= config.bin %> <%= command.id %> -s /var/store --index-dir /var/indexes   # then: desync extract -s http://host:8080/ http://host:8080/v2.caibx v2.raw',
    '<%= config.bin %> <%= command.id %> -s /var/store -l :https --cert server.pem --key server.key --mutual-tls --client-ca clients.pem',
  ];
  static override flags = {
    store: storeFlag,
    cache: cacheFlag,
    listen: Flags.string({
      char: 'l',
      description: 'address to listen on, HOST:PORT, [IPv6]:PORT or :PORT (every interface); repeatable',
      multiple: true,
      default: ['127.0.0.1:8080'],
    }),
    cert: Flags.string({ description: 'PEM certificate file: serve HTTPS', dependsOn: ['key'] }),
    key: Flags.string({ description: 'PEM key file of --cert', dependsOn: ['cert'] }),
    'mutual-tls': Flags.boolean({
      description: 'require client certificates signed by --client-ca',
      dependsOn: ['client-ca', 'cert'],
    }),
    'client-ca': Flags.string({
      description: 'PEM file of the authorities that sign client certificates (--mutual-tls)',
      dependsOn: ['mutual-tls'],
    }),
    writable: Flags.boolean({
      char: 'w',
      description: 'accept PUT of chunks (verified against their id) into the first -s store',
      default: false,
    }),
    auth: Flags.string({
      description: 'token clients must send as "Authorization: Bearer TOKEN" or as Basic password',
      exclusive: ['auth-file'],
    }),
    'auth-file': Flags.string({ description: 'file whose first line is the --auth token (kept out of ps)' }),
    log: Flags.boolean({ description: 'write one line per request to stderr', default: false }),
    'index-dir': Flags.string({
      description: 'also serve the .caibx/.caidx files of this directory (read-only), e.g. GET /v2.caibx',
    }),
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ChunkServerCommand);
    // Installs the SIGINT/SIGTERM handlers before anything listens.
    const stop = this.interrupt;
    const auth = flags['auth-file'] !== undefined ? await readToken(flags['auth-file']) : flags.auth;
    if (auth === '') throw new InvalidArgument('--auth: the token must not be empty');
    const open = storeOpenOptions(flags);
    const store = await openStoreChain({ stores: flags.store, cache: flags.cache, open });
    let writeStore: WriteStore | undefined;
    try {
      if (flags.writable) writeStore = await openWriteStore(flags.store[0], open);
      // hono loads only for this command.
      const { createChunkServer, startChunkServer } = await import('@desync/chunk-server');
      const app = createChunkServer(store, {
        writable: flags.writable,
        writeStore,
        auth,
        indexDir: flags['index-dir'],
        log: flags.log ? (line) => this.logToStderr(line) : undefined,
        onError: (err) => this.logToStderr(`desync: ${err instanceof Error ? err.message : String(err)}`),
      });
      const tls =
        flags.cert !== undefined && flags.key !== undefined
          ? { certFile: flags.cert, keyFile: flags.key, clientCaFile: flags['client-ca'] }
          : undefined;
      const server = await startChunkServer({ app, listen: flags.listen, tls });
      for (const url of server.urls) this.logToStderr(`desync: serving chunks on ${url}`);
      await waitForAbort(stop);
      await server.close();
    } finally {
      await writeStore?.close();
      await store.close();
    }
  }
}
