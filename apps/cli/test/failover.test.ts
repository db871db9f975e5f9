import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import { makeTempDir, removeTempDir, writeRandomFile } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desyncOk, expectOneLineError, runDesync } from './helpers.js';

describe('failover groups (-s "A|B")', () => {
  let dir: string;
  let store: string;
  let index: string;
  let content: Buffer;
  // A regular file where a store directory should be: every read fails with ENOTDIR, an
  // error that is not a missing chunk (a permission bit would not stop root).
  let broken: string;

  beforeAll(async () => {
    dir = await makeTempDir('desync-failover-');
    store = join(dir, 'store');
    index = join(dir, 'blob.caibx');
    broken = join(dir, 'broken');
    await writeFile(broken, 'not a store');
    await writeRandomFile(join(dir, 'blob'), 600 * 1024, 71);
    content = await readFile(join(dir, 'blob'));
    await desyncOk(['make', '-s', store, index, join(dir, 'blob')]);
  });
  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  it('extracts when the first member of the group fails', async () => {
    const out = join(dir, 'out-a');
    await desyncOk(['extract', '-s', `${broken}|${store}`, index, out]);
    expect((await readFile(out)).equals(content)).toBe(true);
  });

  it('extracts when the last member fails', async () => {
    const out = join(dir, 'out-b');
    await desyncOk(['extract', '-s', `${store}|${broken}`, index, out]);
    expect((await readFile(out)).equals(content)).toBe(true);
  });

  it('fails with a store error when every member fails', async () => {
    const result = await runDesync(['extract', '-s', `${broken}|${broken}`, index, join(dir, 'out-c')]);
    expect(result.code).toBe(EXIT_CODES.STORE_ERROR);
    expectOneLineError(result, [broken]);
  });

  it('does not fail over a missing chunk', async () => {
    const empty = join(dir, 'empty');
    const result = await runDesync(['extract', '-s', `${empty}|${store}`, index, join(dir, 'out-d')]);
    expect(result.code).toBe(EXIT_CODES.CHUNK_MISSING);
  });

  it('refuses a group with an empty member', async () => {
    const result = await runDesync(['extract', '-s', `${store}|`, index, join(dir, 'out-e')]);
    expect(result.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expectOneLineError(result, ['failover']);
  });
});
