import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, writeMixedFile } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkIdOf, desyncOk, expectOneLineError, runDesync } from './helpers.js';

// desync's uncompressed stores: plain chunk files named `<4 hex>/<id>` (no .cacnk), chosen
// with --uncompressed or per store with "uncompressed": true in the config file.
describe('uncompressed stores', () => {
  let dir: string;
  let input: string;

  beforeAll(async () => {
    dir = await makeTempDir('desync-uncompressed-');
    input = join(dir, 'input.bin');
    await writeMixedFile(input, 3 * 1024 * 1024, 12);
  });
  afterAll(() => removeTempDir(dir));

  async function chunkFiles(store: string): Promise<string[]> {
    const out: string[] = [];
    for (const prefix of await readdir(store)) {
      for (const name of await readdir(join(store, prefix))) out.push(join(store, prefix, name));
    }
    return out;
  }

  it('--uncompressed writes plain chunk files named by their id, and reads them back', async () => {
    const store = join(dir, 'plain');
    await desyncOk(['make', '--uncompressed', '-s', store, join(dir, 'a.caibx'), input]);
    const files = await chunkFiles(store);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files.slice(0, 5)) {
      const name = f.split('/').pop() as string;
      expect(name).toMatch(/^[0-9a-f]{64}$/);
      expect(chunkIdOf(await readFile(f))).toBe(name);
    }
    await desyncOk(['extract', '--uncompressed', '-s', store, join(dir, 'a.caibx'), join(dir, 'a.out')]);
    expect(Buffer.compare(await readFile(join(dir, 'a.out')), await readFile(input))).toBe(0);
    await desyncOk(['verify', '--uncompressed', '-s', store]);
  });

  it('a corrupt plain chunk is caught on extract', async () => {
    const store = join(dir, 'plain');
    const [first] = await chunkFiles(store);
    await writeFile(first as string, 'not the chunk');
    const r = await runDesync([
      'extract',
      '--uncompressed',
      '-s',
      store,
      join(dir, 'a.caibx'),
      join(dir, 'b.out'),
    ]);
    expectOneLineError(r, [(first as string).split('/').pop() as string]);
  });

  it('the config marks one store uncompressed; a compressed cache beside it stays compressed', async () => {
    const store = join(dir, 'cfg-plain');
    const cache = join(dir, 'cache');
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ stores: { [store]: { uncompressed: true } } }));
    const env = { DESYNC_CONFIG: config };
    await desyncOk(['make', '-s', store, join(dir, 'c.caibx'), input], { env });
    expect((await chunkFiles(store)).every((f) => /\/[0-9a-f]{64}$/.test(f))).toBe(true);
    await desyncOk(['extract', '-s', store, '-c', cache, join(dir, 'c.caibx'), join(dir, 'c.out')], { env });
    expect(Buffer.compare(await readFile(join(dir, 'c.out')), await readFile(input))).toBe(0);
    expect((await chunkFiles(cache)).every((f) => f.endsWith('.cacnk'))).toBe(true);
  });
});
