import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desyncOk, expectOneLineError, runDesync } from './helpers.js';

describe('config file', () => {
  let dir: string;
  let file: string;
  let index: string;
  // HOME without a config, so the user's own file never leaks into a test.
  let home: string;
  let server: Server;
  let base: string;
  const seen: { method: string | undefined; headers: IncomingHttpHeaders }[] = [];
  let status = 404;

  /** Writes a config file and returns the env that selects it. */
  async function withConfig(name: string, content: unknown): Promise<NodeJS.ProcessEnv> {
    const path = join(dir, name);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return { HOME: home, DESYNC_CONFIG: path };
  }

  beforeAll(async () => {
    dir = await makeTempDir('desync-config-');
    home = join(dir, 'home');
    file = join(dir, 'file');
    index = join(dir, 'file.caibx');
    await writeFile(file, randomBytes(300 * 1024, 51));
    await desyncOk(['make', '-s', join(dir, 'store'), index, file]);
    // An HTTP "store" that records what it is asked: every chunk missing, or failing.
    server = createServer((req, res) => {
      seen.push({ method: req.method, headers: req.headers });
      res.statusCode = status;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) await removeTempDir(dir);
  });

  it('desync config shows built-in defaults when there is no file', async () => {
    const { stdout } = await desyncOk(['config'], { env: { HOME: home, DESYNC_CONFIG: undefined } });
    expect(JSON.parse(stdout.toString())).toEqual({
      file: join(home, '.config', 'desync', 'config.json'),
      found: false,
      defaults: { concurrency: 10, chunkSize: '16:64:256' },
      stores: {},
    });
  });

  it('desync config prints the file, defaults and stores, secrets masked', async () => {
    const env = await withConfig('shown.json', {
      stores: {
        'https://user:secret@host/store/': { timeout: 30, httpAuth: 'Bearer TOKEN', clientKey: '/k.pem' },
        '/mnt/a': { 'error-retry': 1, 'trust-insecure': true },
      },
      defaults: { concurrency: 4 },
    });
    const { stdout } = await desyncOk(['config'], { env });
    const text = stdout.toString();
    expect(text).not.toContain('TOKEN');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('/k.pem');
    expect(JSON.parse(text)).toEqual({
      file: env.DESYNC_CONFIG,
      found: true,
      defaults: { concurrency: 4, chunkSize: '16:64:256' },
      stores: {
        'https://***@host/store/': { timeout: 30, httpAuth: '***', clientKey: '***' },
        '/mnt/a': { errorRetry: 1, trustInsecure: true },
      },
    });
  });

  it('--config wins over DESYNC_CONFIG', async () => {
    const env = await withConfig('env.json', { defaults: { concurrency: 2 } });
    const other = join(dir, 'flag.json');
    await writeFile(other, JSON.stringify({ defaults: { concurrency: 3 } }));
    const { stdout } = await desyncOk(['config', '--config', other], { env });
    expect(JSON.parse(stdout.toString())).toMatchObject({ file: other, defaults: { concurrency: 3 } });
  });

  it('fails in one line on a named file that is missing, malformed or has unknown keys', async () => {
    const missing = await runDesync(['config'], {
      env: { HOME: home, DESYNC_CONFIG: join(dir, 'nope.json') },
    });
    expect(missing.code).toBe(EXIT_CODES.FILE_ERROR);
    expectOneLineError(missing, ['nope.json']);
    const malformed = await runDesync(['config'], { env: await withConfig('bad.json', '{ "stores": ') });
    expect(malformed.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expectOneLineError(malformed, ['bad.json', 'JSON']);
    const typo = await runDesync(['config'], {
      env: await withConfig('typo.json', { stores: { '/a': { timout: 3 } } }),
    });
    expect(typo.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expectOneLineError(typo, ['timout']);
    const zero = await runDesync(['chunk', file], {
      env: await withConfig('zero.json', { defaults: { concurrency: 0, chunkSize: '16:64:256' } }),
    });
    expect(zero.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expectOneLineError(zero, ['zero.json', 'concurrency']);
    const sizes = await runDesync(['chunk', file], {
      env: await withConfig('sizes-bad.json', { defaults: { chunkSize: '64:16:256' } }),
    });
    expect(sizes.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expectOneLineError(sizes, ['sizes-bad.json', 'chunkSize']);
    // Store commands read the file before opening stores, so they fail the same way.
    const info = await runDesync(['info', '-s', join(dir, 'store'), index], {
      env: await withConfig('typo2.json', { defaults: { chunksize: '1:2:3' } }),
    });
    expect(info.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
  });

  it('defaults.chunkSize is used when -m is not given, and -m wins', async () => {
    const env = await withConfig('sizes.json', { defaults: { chunkSize: '32:128:512' } });
    const fromConfig = await desyncOk(['chunk', file], { env });
    const explicit = await desyncOk(['chunk', '-m', '32:128:512', file], { env: { HOME: home } });
    expect(fromConfig.stdout.toString()).toBe(explicit.stdout.toString());
    const flagWins = await desyncOk(['chunk', '-m', '16:64:256', file], { env });
    const builtIn = await desyncOk(['chunk', file], { env: { HOME: home } });
    expect(flagWins.stdout.toString()).toBe(builtIn.stdout.toString());
    expect(flagWins.stdout.toString()).not.toBe(fromConfig.stdout.toString());
  });

  it('applies the store entry matching the location by prefix; a flag wins over it', async () => {
    const env = await withConfig('auth.json', {
      stores: {
        'http://127.0.0.1': { httpAuth: 'Bearer short-prefix' },
        [base]: { httpAuth: 'Bearer from-config' },
      },
    });
    status = 404;
    seen.length = 0;
    await desyncOk(['info', '-s', `${base}chunks/`, index], { env });
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((r) => r.headers.authorization))).toEqual(new Set(['Bearer from-config']));

    seen.length = 0;
    await desyncOk(['info', '-s', `${base}chunks/`, '--http-auth', 'Bearer from-flag', index], { env });
    expect(new Set(seen.map((r) => r.headers.authorization))).toEqual(new Set(['Bearer from-flag']));
  });

  it('applies errorRetry per store, and to each member of a failover group', async () => {
    const env = await withConfig('retry.json', { stores: { [base]: { errorRetry: 0 } } });
    status = 500;
    seen.length = 0;
    const result = await runDesync(['info', '-n', '1', '-s', `${base}a/|${base}b/`, index], { env });
    status = 404;
    expect(result.code).toBe(EXIT_CODES.STORE_ERROR);
    // No retries: one request per member (the failover), then the command stops.
    expect(seen).toHaveLength(2);
  });
});
