import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { makeTempDir, removeTempDir, runCli, writeMixedFile } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Index URLs wherever an index path is taken (`extract http://…/x.caibx`), and `-` for
// standard input. These run the built CLI: `npx turbo run build --filter=desync...` first.

const MiB = 1024 * 1024;
const TOKEN = 'Bearer index-token';

let dir: string;
let input: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await makeTempDir('desync-remote-index-');
  input = join(dir, 'input.bin');
  await writeMixedFile(input, 2 * MiB, 3);
  await mkdir(join(dir, 'www'));
  const made = await runCli([
    'make',
    '-s',
    join(dir, 'www', 'store'),
    join(dir, 'www', 'input.caibx'),
    input,
  ]);
  expect(made.code).toBe(0);
  // A plain static file server over www/, requiring TOKEN under /private/.
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const isPrivate = path.startsWith('/private/');
    if (isPrivate && req.headers.authorization !== TOKEN) {
      res.writeHead(401).end();
      return;
    }
    const file = normalize(join(dir, 'www', isPrivate ? path.slice('/private'.length) : path));
    if (!file.startsWith(join(dir, 'www'))) {
      res.writeHead(400).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-length': body.length }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await removeTempDir(dir);
});

describe('index URLs', () => {
  it('extract reads the index from an http:// URL', async () => {
    const out = join(dir, 'out1.bin');
    const r = await runCli(['extract', '-s', `${base}/store/`, `${base}/input.caibx`, out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Buffer.compare(await readFile(out), await readFile(input))).toBe(0);
  });

  it('sends --http-auth with the index request', async () => {
    const out = join(dir, 'out2.bin');
    const denied = await runCli([
      'extract',
      '-s',
      `${base}/private/store/`,
      `${base}/private/input.caibx`,
      out,
    ]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    expect(denied.stderr).toContain('401');
    const r = await runCli([
      'extract',
      '--http-auth',
      TOKEN,
      '-s',
      `${base}/private/store/`,
      `${base}/private/input.caibx`,
      out,
    ]);
    expect(r.code).toBe(0);
    expect(Buffer.compare(await readFile(out), await readFile(input))).toBe(0);
  });

  it('a missing index URL is one line naming it', async () => {
    const r = await runCli(['extract', '-s', `${base}/store/`, `${base}/nope.caibx`, join(dir, 'o3')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${base}/nope.caibx`);
  });

  it('reads the index from standard input with -', async () => {
    const out = join(dir, 'out4.bin');
    const r = await runCli(['extract', '-s', join(dir, 'www', 'store'), '-', out], {
      input: await readFile(join(dir, 'www', 'input.caibx')),
    });
    expect(r.stderr).toBe('');
    expect(Buffer.compare(await readFile(out), await readFile(input))).toBe(0);
  });
});
