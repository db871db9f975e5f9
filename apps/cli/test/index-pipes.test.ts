import { lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, writeMixedFile } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desyncOk } from './helpers.js';

// `-` as an index path: make and tar -i write the index to stdout; commands that read an
// index take it from stdin.
describe('indexes on pipes', () => {
  let dir: string;
  let input: string;
  let store: string;

  beforeAll(async () => {
    dir = await makeTempDir('desync-index-pipes-');
    input = join(dir, 'input.bin');
    store = join(dir, 'store');
    await writeMixedFile(input, 2 * 1024 * 1024, 8);
  });
  afterAll(() => removeTempDir(dir));

  it('make - writes the same index to stdout as to a file', async () => {
    await desyncOk(['make', '-s', store, join(dir, 'file.caibx'), input]);
    const piped = await desyncOk(['make', '-s', store, '-', input]);
    expect(Buffer.compare(piped.stdout, await readFile(join(dir, 'file.caibx')))).toBe(0);
  });

  it('list-chunks, info, extract and verify-index read an index from stdin', async () => {
    const idx = await readFile(join(dir, 'file.caibx'));
    const fromFile = await desyncOk(['list-chunks', join(dir, 'file.caibx')]);
    const fromStdin = await desyncOk(['list-chunks', '-'], { input: idx });
    expect(fromStdin.stdout.toString()).toBe(fromFile.stdout.toString());
    const info = await desyncOk(['info', '--json', '-'], { input: idx });
    expect(JSON.parse(info.stdout.toString()).size).toBe(2 * 1024 * 1024);
    await desyncOk(['extract', '-s', store, '-', join(dir, 'out.bin')], { input: idx });
    expect(Buffer.compare(await readFile(join(dir, 'out.bin')), await readFile(input))).toBe(0);
    await desyncOk(['verify-index', '-', input], { input: idx });
  });

  it('tar -i writes the caidx to stdout', async () => {
    const tree = join(dir, 'tree');
    await mkdir(tree);
    await writeFile(join(tree, 'a'), 'a');
    await desyncOk(['tar', '-i', '-s', store, join(dir, 'tree.caidx'), tree]);
    const piped = await desyncOk(['tar', '-i', '-s', store, '-', tree]);
    expect(Buffer.compare(piped.stdout, await readFile(join(dir, 'tree.caidx')))).toBe(0);
  });

  it('writes into /dev/stdout and /dev/null without replacing them', async () => {
    // Renaming a temporary file over these would put a file in /dev (and write nothing out).
    const viaDev = await desyncOk(['make', '-s', store, '/dev/stdout', input]);
    expect(Buffer.compare(viaDev.stdout, await readFile(join(dir, 'file.caibx')))).toBe(0);
    await desyncOk(['make', '-s', store, '/dev/null', input]);
    await desyncOk(['extract', '-s', store, join(dir, 'file.caibx'), '/dev/null']);
    expect((await lstat('/dev/stdout')).isSymbolicLink()).toBe(true);
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
  });
});
