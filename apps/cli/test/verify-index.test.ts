import { open, readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import { makeTempDir, removeTempDir, writeMixedFile } from '@desync/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  chunkIdOf,
  chunkPath,
  desyncOk,
  expectOneLineError,
  type ParsedIndex,
  parseCaibx,
  runDesync,
} from './helpers.js';

describe('verify-index', () => {
  let dir: string;
  let original: string;
  let content: Buffer;
  let index: string;
  let store: string;
  let parsed: ParsedIndex;
  let copy: string;

  beforeAll(async () => {
    dir = await makeTempDir('desync-verify-index-');
    original = join(dir, 'original');
    index = join(dir, 'original.caibx');
    store = join(dir, 'store');
    await writeMixedFile(original, 1024 * 1024, 91);
    content = await readFile(original);
    await desyncOk(['make', '-s', store, index, original]);
    parsed = await parseCaibx(index);
    expect(parsed.chunks.length).toBeGreaterThan(4);
  });
  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });
  beforeEach(async () => {
    copy = join(dir, 'copy');
    await writeFile(copy, content);
  });

  it('prints OK for the file the index was made from', async () => {
    const { stdout } = await desyncOk(['verify-index', index, copy]);
    expect(stdout.toString()).toBe(
      `OK: ${copy} matches ${index} (${parsed.chunks.length} chunks, ${content.length} bytes)\n`,
    );
  });

  it('names the chunk holding a modified byte, with offset and both ids', async () => {
    const target = parsed.chunks[3];
    const at = target.start + 17;
    const fh = await open(copy, 'r+');
    await fh.write(Buffer.from([content[at] ^ 0x01]), 0, 1, at);
    await fh.close();
    const changed = await readFile(copy);
    const actual = chunkIdOf(changed.subarray(target.start, target.start + target.size));
    const result = await runDesync(['verify-index', index, copy]);
    expect(result.code).toBe(EXIT_CODES.DATA_MISMATCH);
    expect(result.stdout.toString()).toBe('');
    expectOneLineError(result, [
      copy,
      `chunk 3 at offset ${target.start} (${target.size} bytes)`,
      target.id,
      actual,
    ]);
  });

  it('reports a truncated file: the chunk it ends in and both sizes', async () => {
    const cut = parsed.chunks[2].start + 100;
    await truncate(copy, cut);
    const result = await runDesync(['verify-index', index, copy]);
    expect(result.code).toBe(EXIT_CODES.DATA_MISMATCH);
    expectOneLineError(result, [
      `chunk 2 at offset ${parsed.chunks[2].start}`,
      `the file is ${cut} bytes, the index describes ${content.length}`,
    ]);
  });

  it('with -s, checks that the store holds every chunk too', async () => {
    await desyncOk(['verify-index', '-s', store, index, copy]);
    const gone = parsed.chunks[1].id;
    await unlink(chunkPath(store, gone));
    const result = await runDesync(['verify-index', '-s', store, index, copy]);
    expect(result.code).toBe(EXIT_CODES.CHUNK_MISSING);
    expectOneLineError(result, [gone]);
  });

  it('fails in one line on a missing file', async () => {
    const missing = join(dir, 'missing');
    const result = await runDesync(['verify-index', index, missing]);
    expect(result.code).toBe(EXIT_CODES.FILE_ERROR);
    expectOneLineError(result, [missing]);
  });
});
