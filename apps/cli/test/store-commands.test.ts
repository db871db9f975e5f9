import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chunkPath,
  desyncOk,
  exists,
  expectOneLineError,
  parseCaibx,
  runDesync,
  storeIds,
} from './helpers.js';

const KiB = 1024;

describe('verify', () => {
  let dir: string;
  let store: string;
  let ids: string[];

  beforeEach(async () => {
    dir = await makeTempDir('desync-verify-');
    store = join(dir, 'store');
    await writeFile(join(dir, 'file'), randomBytes(1024 * KiB, 31));
    await desyncOk(['make', '-s', store, join(dir, 'file.caibx'), join(dir, 'file')]);
    ids = await storeIds(store);
    expect(ids.length).toBeGreaterThan(3);
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('fails, naming it, on a store directory that does not exist (verify and prune)', async () => {
    const missing = join(dir, 'no-such-store');
    for (const args of [
      ['verify', '-s', missing],
      ['prune', '-s', missing, '-y', join(dir, 'file.caibx')],
    ]) {
      const result = await runDesync(args);
      expect(result.code).toBe(EXIT_CODES.STORE_ERROR);
      expectOneLineError(result, [missing]);
    }
  });

  it('reports how many chunks it checked in a sound store', async () => {
    const result = await runDesync(['verify', '-s', store]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${ids.length} chunks checked, 0 invalid, 0 removed\n`);
  });

  it('reports a corrupt chunk, naming it, and exits non-zero without removing it', async () => {
    const bad = ids[1];
    await writeFile(chunkPath(store, bad), randomBytes(3000, 32));
    const result = await runDesync(['verify', '-s', store]);
    expect(result.code).toBe(EXIT_CODES.CHUNK_INVALID);
    expect(result.stdout.toString()).toBe(`${ids.length} chunks checked, 1 invalid, 0 removed\n`);
    expect(result.stderr).toContain(bad);
    expect(await exists(chunkPath(store, bad))).toBe(true);
  });

  it('removes a corrupt chunk with -r and counts it', async () => {
    const bad = ids[2];
    await writeFile(chunkPath(store, bad), randomBytes(3000, 33));
    const result = await runDesync(['verify', '-s', store, '-r']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${ids.length} chunks checked, 1 invalid, 1 removed\n`);
    expect(await exists(chunkPath(store, bad))).toBe(false);
    expect(await storeIds(store)).toEqual(ids.filter((id) => id !== bad));
    const again = await desyncOk(['verify', '-s', store]);
    expect(again.stdout.toString()).toBe(`${ids.length - 1} chunks checked, 0 invalid, 0 removed\n`);
  });
});

describe('prune', () => {
  let dir: string;
  let store: string;
  const indexes: Record<'a' | 'b' | 'dropped', string> = { a: '', b: '', dropped: '' };

  beforeEach(async () => {
    dir = await makeTempDir('desync-prune-');
    store = join(dir, 'store');
    const a = randomBytes(700 * KiB, 41);
    const b = randomBytes(600 * KiB, 42);
    // Shares a's first half, so pruning it must keep the chunks a still needs.
    const dropped = Buffer.concat([a.subarray(0, 350 * KiB), randomBytes(500 * KiB, 43)]);
    for (const [name, data] of Object.entries({ a, b, dropped })) {
      const file = join(dir, name);
      await writeFile(file, data);
      indexes[name as keyof typeof indexes] = `${file}.caibx`;
      await desyncOk(['make', '-s', store, `${file}.caibx`, file]);
    }
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  const idsOf = async (...paths: string[]) =>
    [...new Set((await Promise.all(paths.map(parseCaibx))).flatMap((i) => i.chunks.map((c) => c.id)))].sort();

  it('with -y keeps exactly the chunks the given indexes reference', async () => {
    const before = await storeIds(store);
    const kept = await idsOf(indexes.a, indexes.b);
    const droppedOnly = (await idsOf(indexes.dropped)).filter((id) => !kept.includes(id));
    expect(droppedOnly.length).toBeGreaterThan(0);
    expect(before.length).toBe(kept.length + droppedOnly.length);

    const result = await desyncOk(['prune', '-s', store, '-y', indexes.a, indexes.b]);
    expect(await storeIds(store)).toEqual(kept);
    expect(result.stdout.toString()).toBe(`${droppedOnly.length} chunks removed, ${kept.length} kept\n`);
    const out = join(dir, 'a.out');
    await desyncOk(['extract', '-s', store, indexes.a, out]);
    expect((await readFile(out)).equals(await readFile(join(dir, 'a')))).toBe(true);
  });

  it('refuses without -y when stdin is not a terminal, removing nothing', async () => {
    const before = await storeIds(store);
    const result = await runDesync(['prune', '-s', store, indexes.a], { input: 'y\n' });
    expectOneLineError(result, ['-y']);
    expect(result.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(await storeIds(store)).toEqual(before);
  });
});
