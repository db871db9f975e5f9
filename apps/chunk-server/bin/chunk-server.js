#!/usr/bin/env node
// desync-chunk-server: `desync chunk-server` without the rest of the CLI. Same flags (the
// upstream TLS flags aside); local and http(s) stores only.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DesyncError, EXIT_CODES, InvalidArgument, registerStoreScheme } from '@desync/core';
import { openStoreChain, openWriteStore } from '@desync/engine';
import { httpStoreScheme } from '@desync/store-http';
import { localStoreScheme } from '@desync/store-local';
import { createChunkServer, startChunkServer } from '../dist/index.js';

const USAGE = `usage: desync-chunk-server -s STORE... [-c CACHE] [-l HOST:PORT]... [--cert F --key F]
       [--mutual-tls --client-ca F] [-w] [--auth TOKEN | --auth-file F] [--log] [-t] [--http-auth V]
Serves chunk stores in casync layout until SIGINT/SIGTERM; see desync chunk-server --help.`;

const OPTIONS = {
  store: { type: 'string', short: 's', multiple: true },
  cache: { type: 'string', short: 'c' },
  listen: { type: 'string', short: 'l', multiple: true },
  cert: { type: 'string' },
  key: { type: 'string' },
  'mutual-tls': { type: 'boolean' },
  'client-ca': { type: 'string' },
  writable: { type: 'boolean', short: 'w' },
  auth: { type: 'string' },
  'auth-file': { type: 'string' },
  log: { type: 'boolean' },
  'trust-insecure': { type: 'boolean', short: 't' },
  'http-auth': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function fail(message, code) {
  process.stderr.write(`desync-chunk-server: ${message}\n`);
  process.exit(code);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({ options: OPTIONS, strict: true }));
  } catch (err) {
    fail(`${err.message}\n${USAGE}`, EXIT_CODES.INVALID_ARGUMENT);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.store?.length) throw new InvalidArgument('no store given; use -s STORE');
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new InvalidArgument('--cert and --key go together');
  }
  const mutual = values['mutual-tls'] ?? false;
  if (mutual !== (values['client-ca'] !== undefined) || (mutual && !values.cert)) {
    throw new InvalidArgument('--mutual-tls needs --client-ca, --cert and --key');
  }
  if (values.auth !== undefined && values['auth-file'] !== undefined) {
    throw new InvalidArgument('give --auth or --auth-file, not both');
  }
  const auth =
    values['auth-file'] !== undefined
      ? (await readFile(values['auth-file'], 'utf8')).split(/\r?\n/, 1)[0].trim()
      : values.auth;
  if (auth === '') throw new InvalidArgument('the auth token is empty');

  registerStoreScheme(localStoreScheme);
  registerStoreScheme(httpStoreScheme);
  const open = { insecure: values['trust-insecure'] ?? false, httpAuth: values['http-auth'] };
  const store = await openStoreChain({ stores: values.store, cache: values.cache, open });
  const writeStore = values.writable ? await openWriteStore(values.store[0], open) : undefined;
  const app = createChunkServer(store, {
    writable: values.writable ?? false,
    writeStore,
    auth,
    log: values.log ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  const tls = values.cert
    ? { certFile: values.cert, keyFile: values.key, clientCaFile: values['client-ca'] }
    : undefined;
  const server = await startChunkServer({ app, listen: values.listen, tls });
  for (const url of server.urls) process.stderr.write(`desync-chunk-server: serving chunks on ${url}\n`);
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // A second signal during shutdown exits at once.
  const now = () => process.exit(EXIT_CODES.ABORTED);
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  await server.close();
  await writeStore?.close();
  await store.close();
}

main().catch((err) => {
  if (process.env.DESYNC_DEBUG === '1') process.stderr.write(`${err.stack}\n`);
  if (err instanceof DesyncError) fail(err.message, EXIT_CODES[err.code] ?? 1);
  fail(err?.message ?? String(err), 1);
});
