import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalStore } from '@desync/store-local';
import { makeTempDir, removeTempDir, runCli, writeMixedFile } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunkServer, startChunkServer } from '../src/index.js';

// --index-dir: the chunk server also serves index files, so `extract` can take an index URL.
let dir: string;
let indexDir: string;

beforeAll(async () => {
  dir = await makeTempDir('chunk-server-index-');
  indexDir = join(dir, 'indexes');
  await mkdir(join(indexDir, 'sub'), { recursive: true });
  await writeFile(join(indexDir, 'a.caibx'), 'index a');
  await writeFile(join(indexDir, 'sub', 'b.caidx'), 'index b');
  await writeFile(join(indexDir, 'not-an-index.txt'), 'secret');
  await writeFile(join(dir, 'outside.caibx'), 'outside');
  await symlink(join(dir, 'outside.caibx'), join(indexDir, 'escape.caibx'));
});
afterAll(() => removeTempDir(dir));

describe('index files', () => {
  it('serves .caibx and .caidx files of the directory, GET and HEAD', async () => {
    const app = createChunkServer(new LocalStore({ path: join(dir, 'store') }), { indexDir });
    const a = await app.request('/a.caibx');
    expect(a.status).toBe(200);
    expect(await a.text()).toBe('index a');
    expect((await app.request('/sub/b.caidx')).status).toBe(200);
    const head = await app.request('/a.caibx', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('7');
    expect((await app.request('/a.caibx', { method: 'PUT', body: 'x' })).status).toBe(405);
  });

  it('serves nothing else: missing, traversal, hidden, symlinks out, other files', async () => {
    const app = createChunkServer(new LocalStore({ path: join(dir, 'store') }), { indexDir });
    expect((await app.request('/missing.caibx')).status).toBe(404);
    expect((await app.request('/escape.caibx')).status).toBe(404);
    for (const path of [
      '/../outside.caibx',
      '/%2e%2e/outside.caibx',
      '/.hidden.caibx',
      '/not-an-index.txt',
    ]) {
      const res = await app.request(path);
      expect([400, 404], path).toContain(res.status);
      const body = await res.text();
      expect(body).not.toContain('outside');
      expect(body).not.toContain('secret');
    }
  });

  it('without --index-dir, index paths are bad requests', async () => {
    const app = createChunkServer(new LocalStore({ path: join(dir, 'store') }));
    expect((await app.request('/a.caibx')).status).toBe(400);
  });

  it('extract reads index and chunks from one chunk server', async () => {
    const input = join(dir, 'input.bin');
    await writeMixedFile(input, 1024 * 1024, 4);
    const store = join(dir, 'store');
    expect((await runCli(['make', '-s', store, join(indexDir, 'input.caibx'), input])).code).toBe(0);
    const app = createChunkServer(new LocalStore({ path: store }), { indexDir });
    const server = await startChunkServer({ app, listen: ['127.0.0.1:0'] });
    try {
      const url = server.urls[0] as string;
      const out = join(dir, 'out.bin');
      const r = await runCli(['extract', '-s', url, `${url.replace(/\/$/, '')}/input.caibx`, out]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      await server.close();
    }
  });
});
