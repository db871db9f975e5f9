import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desyncOk, exists, expectOneLineError, parseCaibx, runDesync, storeIds } from './helpers.js';

// Test vectors from desync's own suite; see fixtures/LICENSE.md.
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);

/** `-m` in KiB matching the chunk sizes an index was made with. */
async function chunkSpecOf(indexPath: string): Promise<string> {
  const { min, avg, max } = await parseCaibx(indexPath);
  return [min, avg, max].map((bytes) => bytes / 1024).join(':');
}

describe('desync test vectors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('desync-vectors-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('extracts blob1 from blob1.store byte for byte', async () => {
    const out = join(dir, 'blob1');
    await desyncOk(['extract', '-s', fixture('blob1.store'), fixture('blob1.caibx'), out]);
    expect((await readFile(out)).equals(await readFile(fixture('blob1')))).toBe(true);
  });

  it('cats blob1 from blob1.store byte for byte', async () => {
    const { stdout } = await desyncOk(['cat', '-s', fixture('blob1.store'), fixture('blob1.caibx')]);
    expect(stdout.equals(await readFile(fixture('blob1')))).toBe(true);
  });

  it("chunks blob1 at the boundaries and ids desync's index records", async () => {
    const index = await parseCaibx(fixture('blob1.caibx'));
    const spec = await chunkSpecOf(fixture('blob1.caibx'));
    const { stdout } = await desyncOk(['chunk', '-m', spec, fixture('blob1')]);
    expect(stdout.toString()).toBe(index.chunks.map((c) => `${c.start} ${c.size} ${c.id}\n`).join(''));
  });

  it('finds every chunk of blob1.store valid', async () => {
    const { stdout } = await desyncOk(['verify', '-s', fixture('blob1.store')]);
    const count = (await storeIds(fixture('blob1.store'))).length;
    expect(stdout.toString()).toBe(`${count} chunks checked, 0 invalid, 0 removed\n`);
  });

  it('extracts blob2 from its store, and make of the result reproduces the same chunk ids', async () => {
    const blob = join(dir, 'blob2');
    const index = join(dir, 'blob2.caibx');
    const store = join(dir, 'store');
    await desyncOk(['extract', '-s', fixture('cli/blob2.store'), fixture('cli/blob2.caibx'), blob]);
    const spec = await chunkSpecOf(fixture('cli/blob2.caibx'));
    await desyncOk(['make', '-m', spec, '-s', store, index, blob]);
    const [ours, theirs] = await Promise.all([parseCaibx(index), parseCaibx(fixture('cli/blob2.caibx'))]);
    expect(ours.chunks).toEqual(theirs.chunks);
    expect(await storeIds(store)).toEqual(await storeIds(fixture('cli/blob2.store')));
  });

  it('fails to extract with an index whose chunks the store lacks, naming one, leaving no output', async () => {
    const outDir = join(dir, 'out');
    const out = join(outDir, 'blob1');
    await mkdir(outDir);
    const result = await runDesync([
      'extract',
      '-s',
      fixture('blob1.store'),
      fixture('cli/blob1_corrupted_index.caibx'),
      out,
    ]);
    const line = expectOneLineError(result);
    const named = line.match(/[0-9a-f]{64}/)?.[0];
    const bad = await parseCaibx(fixture('cli/blob1_corrupted_index.caibx'));
    const present = new Set(await storeIds(fixture('blob1.store')));
    const missing = bad.chunks.map((c) => c.id).filter((id) => !present.has(id));
    expect(missing.length).toBeGreaterThan(0);
    expect(missing).toContain(named);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('fails to chop blob1 with the index that does not match it, naming the chunk', async () => {
    const result = await runDesync([
      'chop',
      '-s',
      join(dir, 'store'),
      fixture('cli/blob1_corrupted_index.caibx'),
      fixture('cli/blob1_corrupted_index'),
    ]);
    const line = expectOneLineError(result);
    const index = await parseCaibx(fixture('cli/blob1_corrupted_index.caibx'));
    expect(index.chunks.map((c) => c.id)).toContain(line.match(/[0-9a-f]{64}/)?.[0]);
  });

  it("fails to chop blob2_corrupted with blob2's index, naming the chunk", async () => {
    const result = await runDesync([
      'chop',
      '-s',
      join(dir, 'store'),
      fixture('cli/blob2_corrupted.caibx'),
      fixture('cli/blob2_corrupted'),
    ]);
    const line = expectOneLineError(result);
    const index = await parseCaibx(fixture('cli/blob2_corrupted.caibx'));
    expect(index.chunks.map((c) => c.id)).toContain(line.match(/[0-9a-f]{64}/)?.[0]);
  });

  it('chops blob1 with its own index into a store that then verifies and extracts', async () => {
    const store = join(dir, 'store');
    const out = join(dir, 'out');
    await desyncOk(['chop', '-s', store, fixture('blob1.caibx'), fixture('blob1')]);
    expect(await storeIds(store)).toEqual(await storeIds(fixture('blob1.store')));
    await desyncOk(['extract', '-s', store, fixture('blob1.caibx'), out]);
    expect(await exists(out)).toBe(true);
    expect((await readFile(out)).equals(await readFile(fixture('blob1')))).toBe(true);
  });
});
