import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import {
  cliBinPath,
  makeSelfSignedCertificate,
  makeTempDir,
  removeTempDir,
  runCasync,
  writeMixedFile,
} from '@desync/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  casyncPeer,
  chunkIdOf,
  chunkPath,
  desyncOk,
  exists,
  expectOneLineError,
  rawZstdFrame,
  runDesync,
} from './helpers.js';

const { casync, missingInCi } = casyncPeer();

/** A `desync chunk-server` child process, once it printed every URL it listens on. */
interface ServerProcess {
  child: ChildProcess;
  urls: string[];
  stderr: () => string;
  /** Sends `signal` and resolves with how the process ended. */
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

async function startServer(args: string[], listeners = 1): Promise<ServerProcess> {
  const child = spawn(process.execPath, [cliBinPath(), 'chunk-server', ...args], {
    env: { ...process.env, DESYNC_DEBUG: undefined },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const urls = await new Promise<string[]>((resolve, reject) => {
    child.stderr!.on('data', (piece: Buffer) => {
      stderr += piece.toString('utf8');
      const found = [...stderr.matchAll(/serving chunks on (\S+)/g)].map((m) => m[1]);
      if (found.length === listeners) resolve(found);
    });
    exited.then(([code]) => reject(new Error(`chunk-server exited ${code} before listening: ${stderr}`)));
  });
  return {
    child,
    urls,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      const [code, sig] = await exited;
      return { code, signal: sig };
    },
  };
}

const urlOf = (base: string, id: string) => new URL(`${id.slice(0, 4)}/${id}.cacnk`, base).href;

let dir: string;
let store: string;
let index: string;
let input: string;

beforeAll(async () => {
  dir = await makeTempDir('desync-chunk-server-');
  store = join(dir, 'store');
  index = join(dir, 'blob.caibx');
  input = join(dir, 'blob.bin');
  await writeMixedFile(input, 2 << 20, 11);
  await desyncOk(['make', '-s', store, index, input]);
});

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await removeTempDir(dir);
});

describe('desync chunk-server', () => {
  it('serves a store until SIGTERM, then exits 0', async () => {
    const server = await startServer(['-s', store, '-l', '127.0.0.1:0']);
    expect(server.urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const [first] = (await runDesync(['list-chunks', index])).stdout.toString().split('\n');
    const res = await fetch(urlOf(server.urls[0], first));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(chunkPath(store, first)))).toBe(true);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('exits 0 on SIGINT too', async () => {
    const server = await startServer(['-s', store, '-l', '127.0.0.1:0']);
    expect(await server.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });

  it.skipIf(!casync && !missingInCi)('lets casync extract a blob made by desync make', async () => {
    if (missingInCi) throw missingInCi;
    const server = await startServer(['-s', store, '-l', '127.0.0.1:0', '--log']);
    const output = join(dir, 'casync-out.bin');
    await runCasync(['extract', `--store=${server.urls[0]}`, index, output], { casync });
    expect((await readFile(output)).equals(await readFile(input))).toBe(true);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toMatch(/^GET \/[0-9a-f]{4}\/[0-9a-f]{64}\.cacnk 200 \d+ \d+ms$/m);
  });

  it.skipIf(!casync && !missingInCi)(
    '--writable receives `desync make -s http://…`: the same store as a local make, read back by casync',
    async () => {
      if (missingInCi) throw missingInCi;
      const target = join(dir, 'uploaded');
      const server = await startServer(['-s', target, '-l', '127.0.0.1:0', '--writable']);
      const uploaded = join(dir, 'uploaded.caibx');
      await desyncOk(['make', '-s', server.urls[0] as string, uploaded, input]);
      expect(await readFile(uploaded)).toEqual(await readFile(index));
      const ids = (await runDesync(['list-chunks', index])).stdout.toString().trim().split('\n');
      for (const id of new Set(ids)) expect(await exists(chunkPath(target, id)), id).toBe(true);
      const output = join(dir, 'uploaded-out.bin');
      await runCasync(['extract', `--store=${server.urls[0]}`, uploaded, output], { casync });
      expect((await readFile(output)).equals(await readFile(input))).toBe(true);
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    },
  );

  it('listens on each -l address', async () => {
    const server = await startServer(['-s', store, '-l', '127.0.0.1:0', '-l', '127.0.0.1:0'], 2);
    expect(new Set(server.urls).size).toBe(2);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it('takes verified uploads with --writable, behind --auth-file', async () => {
    const upload = join(dir, 'upload-store');
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'let-me-in\n');
    const server = await startServer([
      '-s',
      upload,
      '-l',
      '127.0.0.1:0',
      '--writable',
      '--auth-file',
      tokenFile,
    ]);
    const plain = Buffer.from('an uploaded chunk');
    const id = chunkIdOf(plain);
    const put = (authorization: string | undefined, body: Uint8Array) =>
      fetch(urlOf(server.urls[0], id), {
        method: 'PUT',
        body: body as Uint8Array<ArrayBuffer>,
        headers: authorization ? { authorization } : {},
      });
    expect((await put(undefined, rawZstdFrame(plain))).status).toBe(401);
    expect((await put('Bearer wrong', rawZstdFrame(plain))).status).toBe(401);
    expect((await put('Bearer let-me-in', rawZstdFrame(Buffer.from('other')))).status).toBe(400);
    expect(await exists(chunkPath(upload, id))).toBe(false);
    expect((await put('Bearer let-me-in', rawZstdFrame(plain))).status).toBe(200);
    expect(await exists(chunkPath(upload, id))).toBe(true);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it('proxies an upstream chunk server (with --http-auth), filling the -c cache', async () => {
    const upstream = await startServer(['-s', store, '-l', '127.0.0.1:0', '--auth', 'up-token']);
    const cache = join(dir, 'proxy-cache');
    const proxy = await startServer([
      '-s',
      upstream.urls[0],
      '-c',
      cache,
      '-l',
      '127.0.0.1:0',
      '--error-retry',
      '0',
      '--http-auth',
      'Bearer up-token',
    ]);
    const ids = (await runDesync(['list-chunks', index])).stdout.toString().trim().split('\n');
    const wanted = [...new Set(ids)].slice(0, 3);
    for (const id of wanted) {
      const res = await fetch(urlOf(proxy.urls[0], id));
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(chunkPath(store, id)))).toBe(true);
      expect(await exists(chunkPath(cache, id))).toBe(true);
    }
    // Once upstream is gone, cached chunks are still served; others fail without details.
    expect(await upstream.stop()).toEqual({ code: 0, signal: null });
    expect((await fetch(urlOf(proxy.urls[0], wanted[0]))).status).toBe(200);
    const other = ids.find((id) => !wanted.includes(id))!;
    const res = await fetch(urlOf(proxy.urls[0], other));
    expect(res.status).toBe(502);
    expect(await res.text()).toBe('backing store failed');
    expect(await proxy.stop()).toEqual({ code: 0, signal: null });
  });

  it('serves HTTPS with --cert/--key and requires a client certificate with --mutual-tls', async () => {
    // Self-signed certificates (CA:TRUE by default), so each one is its own CA.
    const server = await makeSelfSignedCertificate(dir, 'server');
    const client = await makeSelfSignedCertificate(dir, 'client', '127.0.0.2');
    const pem = (name: string) =>
      ({
        'server.pem': server.certFile,
        'server.key': server.keyFile,
        'client.pem': client.certFile,
        'client.key': client.keyFile,
      })[name] as string;
    const upstream = await startServer([
      '-s',
      store,
      '-l',
      '127.0.0.1:0',
      '--cert',
      pem('server.pem'),
      '--key',
      pem('server.key'),
      '--mutual-tls',
      '--client-ca',
      pem('client.pem'),
    ]);
    expect(upstream.urls[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const [id] = (await runDesync(['list-chunks', index])).stdout.toString().split('\n');
    const get = (options: https.RequestOptions) =>
      new Promise<number>((resolve, reject) => {
        https
          .get(urlOf(upstream.urls[0], id), options, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
    const ca = await readFile(pem('server.pem'));
    const cert = await readFile(pem('client.pem'));
    const key = await readFile(pem('client.key'));
    expect(await get({ ca, cert, key })).toBe(200);
    await expect(get({ ca })).rejects.toThrow();
    // desync's own HTTP store as the client: a proxy in front of the mutual-TLS server.
    const proxy = await startServer([
      '-s',
      upstream.urls[0],
      '-l',
      '127.0.0.1:0',
      '--ca-cert',
      pem('server.pem'),
      '--client-cert',
      pem('client.pem'),
      '--client-key',
      pem('client.key'),
      '--error-retry',
      '0',
    ]);
    const res = await fetch(urlOf(proxy.urls[0], id));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(chunkPath(store, id)))).toBe(true);
    expect(await proxy.stop()).toEqual({ code: 0, signal: null });
    expect(await upstream.stop()).toEqual({ code: 0, signal: null });
  });

  it('answers 405 to PUT without --writable', async () => {
    const server = await startServer(['-s', store, '-l', '127.0.0.1:0']);
    const plain = Buffer.from('nope');
    const res = await fetch(urlOf(server.urls[0], chunkIdOf(plain)), {
      method: 'PUT',
      body: rawZstdFrame(plain),
    });
    expect(res.status).toBe(405);
    await server.stop();
  });
});

describe('desync chunk-server usage errors', () => {
  it.each([
    { what: 'a listen address without a port', args: ['-l', 'localhost'], mentions: ['localhost'] },
    { what: '--auth with --auth-file', args: ['--auth', 'a', '--auth-file', 'f'], mentions: ['--auth'] },
    { what: '--mutual-tls without --client-ca', args: ['--mutual-tls'], mentions: ['--client-ca'] },
    { what: '--cert without --key', args: ['--cert', 'c.pem'], mentions: ['--key'] },
  ])('rejects $what with one line naming it', async ({ args, mentions }) => {
    const result = await runDesync(['chunk-server', '-s', store, ...args]);
    expectOneLineError(result, mentions);
    expect(result.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
  });

  it('rejects a port already in use with one line and exit status 2', async () => {
    const server = await startServer(['-s', store, '-l', '127.0.0.1:0']);
    const taken = new URL(server.urls[0]).host;
    const result = await runDesync(['chunk-server', '-s', store, '-l', taken]);
    expectOneLineError(result, [taken, 'in use']);
    expect(result.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    await server.stop();
  });

  it('names a missing --auth-file', async () => {
    const missing = join(dir, 'no-token');
    const result = await runDesync([
      'chunk-server',
      '-s',
      store,
      '-l',
      '127.0.0.1:0',
      '--auth-file',
      missing,
    ]);
    expectOneLineError(result, [missing]);
    expect(result.code).toBe(EXIT_CODES.FILE_ERROR);
  });
});
