import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  desyncOk,
  exists,
  expectOneLineError,
  parseCaibx,
  runDesync,
  storeIds,
  withSmallTmpfs,
} from './helpers.js';

describe('make', () => {
  let dir: string;
  let input: string;

  beforeEach(async () => {
    dir = await makeTempDir('desync-make-');
    input = join(dir, 'input');
    await writeFile(input, randomBytes(300 * 1024, 51));
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('creates a store directory that does not exist yet, parents included', async () => {
    const store = join(dir, 'new', 'nested', 'store');
    const index = join(dir, 'input.caibx');
    await desyncOk(['make', '-s', store, index, input]);
    const ids = (await parseCaibx(index)).chunks.map((c) => c.id);
    expect(await storeIds(store)).toEqual([...new Set(ids)].sort());
  });

  it('fails naming a missing input, leaving no index and no temp file', async () => {
    const missing = join(dir, 'no-such-file');
    const indexDir = join(dir, 'indexes');
    await mkdir(indexDir);
    const result = await runDesync(['make', '-s', join(dir, 'store'), join(indexDir, 'x.caibx'), missing]);
    expectOneLineError(result, [missing]);
    expect(await readdir(indexDir)).toEqual([]);
  });

  it('fails naming the store when it cannot be written, leaving no index', async () => {
    const notADir = join(dir, 'a-file');
    await writeFile(notADir, 'x');
    const store = join(notADir, 'store');
    const index = join(dir, 'input.caibx');
    const result = await runDesync(['make', '-s', store, index, input]);
    expectOneLineError(result, [store, 'cannot write chunk', 'not a directory']);
    expect(result.code).toBe(EXIT_CODES.STORE_ERROR);
    expect(await exists(index)).toBe(false);
  });

  it.runIf(process.platform === 'linux')(
    'fails naming the store where mkdir answers ENOENT under an existing directory (/proc), instead of hanging',
    async () => {
      // Node's own recursive mkdir never returns there; a make used to spin at full CPU.
      const store = '/proc/desync-no-such-dir/store';
      const index = join(dir, 'input.caibx');
      const result = await runDesync(['make', '-s', store, index, input], { timeout: 30_000 });
      expectOneLineError(result, [store, 'cannot write chunk', 'no such file or directory']);
      expect(result.code).toBe(EXIT_CODES.STORE_ERROR);
      expect(await exists(index)).toBe(false);
    },
  );

  it('fails naming the store when it runs out of space, leaving no temporary chunk file (root: a small tmpfs)', (ctx) =>
    withSmallTmpfs(join(dir, 'small'), ctx, async (mount) => {
      const big = join(dir, 'big');
      await writeFile(big, randomBytes(4 * 1024 * 1024, 52));
      const store = join(mount, 'store');
      const result = await runDesync(['make', '-s', store, join(dir, 'big.caibx'), big]);
      expectOneLineError(result, [store, 'no space left']);
      expect(result.code).toBe(EXIT_CODES.STORE_ERROR);
      const files = (await readdir(store, { recursive: true })) as string[];
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(await exists(join(dir, 'big.caibx'))).toBe(false);
    }));

  it('refuses an index output on a remote location before touching the store', async () => {
    const store = join(dir, 'store');
    for (const target of [
      'ssh://host/x.caibx',
      'host:x.caibx',
      'https://host/x.caibx',
      's3+http://h/b/x.caibx',
    ]) {
      const result = await runDesync(['make', '-s', store, target, input], { cwd: dir });
      expectOneLineError(result, [target, 'local file']);
      expect(result.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    }
    expect(await exists(store)).toBe(false);
    // A local name with a colon still works when it says so.
    await desyncOk(['make', '-s', store, './host:x.caibx', input], { cwd: dir });
    expect(await exists(join(dir, 'host:x.caibx'))).toBe(true);
    // …and an existing local file of a host:path name is read as itself, not over ssh.
    const info = await desyncOk(['info', 'host:x.caibx'], { cwd: dir });
    expect(info.stdout.toString()).toMatch(/Blob size:\s+307200 bytes/);
  });

  describe.each(['1:2', '64:16:256', 'abc', '0:0:0', '16:64:256:1', '-1:64:256', '16:64:1000000'])(
    'with -m %s',
    (spec) => {
      it('make fails with one line and writes no index', async () => {
        const index = join(dir, 'input.caibx');
        const result = await runDesync(['make', '-m', spec, '-s', join(dir, 'store'), index, input]);
        expectOneLineError(result);
        expect(result.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
        expect(await exists(index)).toBe(false);
      });

      it('chunk fails with one line', async () => {
        const result = await runDesync(['chunk', '-m', spec, input]);
        expectOneLineError(result);
        expect(result.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
        expect(result.stdout.length).toBe(0);
      });
    },
  );
});
