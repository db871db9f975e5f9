import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Certificate,
  findCasync,
  hashFile,
  makeSelfSignedCertificate,
  makeTempDir,
  removeTempDir,
  requirePeer,
  runCasync,
  runCli,
  writeMixedFile,
} from '@desync/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChunkStoreServer,
  type ChunkStoreServerOptions,
  startChunkStoreServer,
} from './chunk-store-server.js';

// These run the built CLI (apps/cli/bin/run.js): `npx turbo run build --filter=desync...` first.

const casync = requirePeer('casync', findCasync());
const MiB = 1024 * 1024;
const TOKEN = 'Bearer cli-token-5e1f';

let dir: string;
let input: string;
let serverCert: Certificate;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await makeTempDir('desync-store-http-cli-');
  input = join(dir, 'input.bin');
  await writeMixedFile(input, 3 * MiB, 7);
  serverCert = await makeSelfSignedCertificate(dir, 'server');
  // The store every read test serves: what our own CLI makes into a local directory.
  const made = await runCli(['make', '-s', join(dir, 'store'), join(dir, 'input.caibx'), input]);
  expect(made.stderr).toBe('');
  expect(made.code).toBe(0);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await removeTempDir(dir);
});

async function serve(options: Partial<ChunkStoreServerOptions> = {}): Promise<ChunkStoreServer> {
  const server = await startChunkStoreServer({ dir: join(dir, 'store'), readOnly: 405, ...options });
  cleanups.push(server.close);
  return server;
}

let outputs = 0;

/** Runs `desync extract` of input.caibx from `store` and returns its result and output path. */
async function extract(store: string, flags: string[] = [], index = join(dir, 'input.caibx')) {
  const out = join(dir, `out-${outputs++}.bin`);
  const result = await runCli(['extract', '-s', store, ...flags, index, out]);
  return { ...result, out };
}

async function expectExtracted(store: string, flags: string[] = []): Promise<void> {
  const { code, stderr, out } = await extract(store, flags);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(await hashFile(out)).toBe(await hashFile(input));
}

/** Every chunk file of a store directory, by relative path, with its bytes. */
async function chunkFiles(store: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const prefix of await readdir(store)) {
    for (const name of await readdir(join(store, prefix))) {
      if (name.endsWith('.cacnk') && !name.startsWith('.')) {
        files.set(`${prefix}/${name}`, await readFile(join(store, prefix, name)));
      }
    }
  }
  return files;
}

describe.skipIf(!casync)('desync extract from a store casync made, served over HTTP', () => {
  it('extracts the same bytes', async () => {
    const store = join(dir, 'casync-store');
    const index = join(dir, 'casync.caibx');
    await runCasync(['make', `--store=${store}`, index, input]);
    const server = await serve({ dir: store, prefix: '/casync/' });
    const { code, stderr, out } = await extract(server.url.replace(/\/$/, ''), [], index);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(await hashFile(out)).toBe(await hashFile(input));
    expect(server.requests.every((r) => r.startsWith('GET /casync/') || r.startsWith('HEAD /casync/'))).toBe(
      true,
    );
  });
});

describe('desync with an HTTP store', () => {
  it('make -s http://… stores the same chunks and index as make into a local directory', async () => {
    const remote = await makeTempDir('desync-store-http-remote-');
    cleanups.push(() => removeTempDir(remote));
    const server = await serve({ dir: remote, readOnly: undefined });
    const index = join(dir, 'remote.caibx');
    const made = await runCli(['make', '-s', server.url, index, input]);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(Buffer.compare(await readFile(index), await readFile(join(dir, 'input.caibx')))).toBe(0);
    const local = await chunkFiles(join(dir, 'store'));
    const stored = await chunkFiles(remote);
    expect([...stored.keys()].sort()).toEqual([...local.keys()].sort());
    for (const [path, bytes] of stored) expect(bytes.equals(local.get(path)!)).toBe(true);
    await expectExtracted(server.url);
  });

  it('make into a read-only server fails with one line naming the URL and status', async () => {
    const empty = await makeTempDir('desync-store-http-empty-');
    cleanups.push(() => removeTempDir(empty));
    const server = await serve({ dir: empty });
    const result = await runCli(['make', '-s', server.url, join(dir, 'refused.caibx'), input]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/^desync: .*PUT http:\/\/127\.0\.0\.1:\d+\/.*HTTP 405 .*read-only/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('extract needs --http-auth when the server wants it', async () => {
    const server = await serve({ authorization: TOKEN });
    const denied = await extract(server.url);
    expect(denied.code).toBe(6);
    expect(denied.stderr).toContain(server.url);
    expect(denied.stderr).toContain('HTTP 401 Unauthorized');
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    await expectExtracted(server.url, ['--http-auth', TOKEN]);
  });

  it('sends user:password from the URL as basic auth, and never prints the password', async () => {
    const basic = `Basic ${Buffer.from('alice:hunter2').toString('base64')}`;
    const server = await serve({ authorization: basic });
    await expectExtracted(server.url.replace('//', '//alice:hunter2@'));
    const wrong = await extract(server.url.replace('//', '//alice:wrong-secret@'));
    expect(wrong.code).toBe(6);
    expect(wrong.stderr).toContain('HTTP 401');
    expect(wrong.stderr).not.toContain('wrong-secret');
  });

  it('extracts with -n 32 over a keep-alive pool, printing nothing', async () => {
    const server = await serve();
    await expectExtracted(server.url, ['-n', '32']);
    expect(server.connections).toBeLessThanOrEqual(32);
  });

  it('completes when the server answers 503 to the first requests', async () => {
    const server = await serve({
      intercept: (_req, res, n) => {
        if (n >= 4) return false;
        res.writeHead(503).end();
        return true;
      },
    });
    await expectExtracted(server.url);
  });

  it('completes when the server resets the first connections', async () => {
    const server = await serve({
      onConnection: (socket, n) => {
        if (n < 3) socket.resetAndDestroy();
      },
    });
    await expectExtracted(server.url);
  });

  it('fails after --error-retry attempts against a server answering 500', async () => {
    const server = await serve({
      intercept: (_req, res) => {
        res.writeHead(500).end();
        return true;
      },
    });
    const result = await extract(server.url, ['--error-retry', '1', '-n', '1']);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(
      /^desync: .*GET http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{4}\/[0-9a-f]{64}\.cacnk: HTTP 500 Internal Server Error \(2 attempts\)/,
    );
  });

  describe('over HTTPS with a self-signed certificate', () => {
    const tls = (): Partial<ChunkStoreServerOptions> => ({
      tls: { key: serverCert.key, cert: serverCert.cert },
    });

    it('fails without -t, saying what to do', async () => {
      const server = await serve(tls());
      const result = await extract(server.url);
      expect(result.code).toBe(6);
      expect(result.stderr).toContain(`GET ${server.url}`);
      expect(result.stderr).toContain('not trusted (self-signed certificate)');
      expect(result.stderr).toContain('-t');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('extracts with -t', async () => {
      const server = await serve(tls());
      await expectExtracted(server.url, ['-t']);
    });

    it('extracts with --ca-cert', async () => {
      const server = await serve(tls());
      await expectExtracted(server.url, ['--ca-cert', serverCert.certFile]);
    });

    it('extracts from a server requiring a client certificate with --client-cert and --client-key', async () => {
      const client = await makeSelfSignedCertificate(dir, 'cli-client');
      const server = await serve({
        tls: { key: serverCert.key, cert: serverCert.cert, requestCert: true, ca: client.cert },
      });
      const refused = await extract(server.url, ['-t']);
      expect(refused.code).toBe(6);
      expect(refused.stderr).toContain('client certificate');
      await expectExtracted(server.url, [
        '-t',
        '--client-cert',
        client.certFile,
        '--client-key',
        client.keyFile,
      ]);
    });
  });
});
