import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desyncOk, exists, expectOneLineError, runDesync } from './helpers.js';

// Each command that reads an index, with the arguments around it.
const READERS: Record<string, (index: string, dir: string) => string[]> = {
  'list-chunks': (index) => ['list-chunks', index],
  extract: (index, dir) => ['extract', '-s', join(dir, 'store'), index, join(dir, 'out')],
  cat: (index, dir) => ['cat', '-s', join(dir, 'store'), index],
  prune: (index, dir) => ['prune', '-y', '-s', join(dir, 'store'), index],
};

describe('a malformed index', () => {
  let dir: string;
  const broken: Record<string, string> = {};

  beforeAll(async () => {
    dir = await makeTempDir('desync-bad-index-');
    const input = join(dir, 'input');
    const good = join(dir, 'good.caibx');
    await writeFile(input, randomBytes(200 * 1024, 61));
    await desyncOk(['make', '-s', join(dir, 'store'), good, input]);
    const bytes = await readFile(good);
    const variants: Record<string, Uint8Array> = {
      'cut inside the header': bytes.subarray(0, 30),
      'cut inside the chunk table': bytes.subarray(0, bytes.length - 57),
      'with a bad magic': Buffer.concat([bytes.subarray(0, 8), Buffer.alloc(8, 0x42), bytes.subarray(16)]),
      empty: new Uint8Array(0),
      'of text': Buffer.from('this is not an index\n'),
    };
    for (const [name, data] of Object.entries(variants)) {
      broken[name] = join(dir, `${name.replaceAll(' ', '-')}.caibx`);
      await writeFile(broken[name], data);
    }
  });
  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  describe.each([
    'cut inside the header',
    'cut inside the chunk table',
    'with a bad magic',
    'empty',
    'of text',
  ])('%s', (variant) => {
    it.each(Object.keys(READERS))('makes %s fail with one line naming the file', async (command) => {
      const result = await runDesync(READERS[command](broken[variant], dir));
      expectOneLineError(result, [broken[variant]]);
      expect(result.code).toBe(EXIT_CODES.INDEX_FORMAT);
      expect(result.stdout.length).toBe(0);
      expect(await exists(join(dir, 'out'))).toBe(false);
    });
  });

  it('that does not exist fails with one line naming it', async () => {
    const missing = join(dir, 'missing.caibx');
    const result = await runDesync(['list-chunks', missing]);
    expectOneLineError(result, [missing]);
  });
});
