import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkPath, desyncOk, type ParsedIndex, parseCaibx, runDesync, storeIds } from './helpers.js';

/** Parses JSON lines, failing on anything else. */
function jsonLines(text: string): unknown[] {
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  return lines.map((line) => JSON.parse(line));
}

describe('--json output', () => {
  let dir: string;
  let file: string;
  let index: string;
  let store: string;
  let parsed: ParsedIndex;

  beforeAll(async () => {
    dir = await makeTempDir('desync-json-');
    file = join(dir, 'file');
    index = join(dir, 'file.caibx');
    store = join(dir, 'store');
    await writeFile(file, randomBytes(700 * 1024, 61));
    await desyncOk(['make', '-s', store, index, file]);
    parsed = await parseCaibx(index);
    expect(parsed.chunks.length).toBeGreaterThan(3);
  });
  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  it('list-chunks --json prints one {id, offset, size} object per chunk', async () => {
    const { stdout } = await desyncOk(['list-chunks', '--json', index]);
    expect(jsonLines(stdout.toString())).toEqual(
      parsed.chunks.map((c) => ({ id: c.id, offset: c.start, size: c.size })),
    );
  });

  it('chunk --json prints the same objects as list-chunks of the index made from the file', async () => {
    const { stdout } = await desyncOk(['chunk', '--json', file]);
    expect(jsonLines(stdout.toString())).toEqual(
      parsed.chunks.map((c) => ({ id: c.id, offset: c.start, size: c.size })),
    );
  });

  it('verify --json prints one summary object', async () => {
    const ids = await storeIds(store);
    const { stdout } = await desyncOk(['verify', '--json', '-s', store]);
    expect(jsonLines(stdout.toString())).toEqual([
      { checked: ids.length, invalid: 0, removed: 0, 'invalid-chunks': [] },
    ]);
  });

  it('verify --json lists invalid chunks and keeps the exit status', async () => {
    const broken = join(dir, 'broken');
    await desyncOk(['make', '-s', broken, join(dir, 'again.caibx'), file]);
    const ids = await storeIds(broken);
    await writeFile(chunkPath(broken, ids[0]), randomBytes(500, 62));
    const result = await runDesync(['verify', '--json', '-s', broken]);
    expect(result.code).toBe(EXIT_CODES.CHUNK_INVALID);
    const [summary] = jsonLines(result.stdout.toString()) as [Record<string, unknown>];
    expect(summary).toMatchObject({ checked: ids.length, invalid: 1, removed: 0 });
    expect(summary['invalid-chunks']).toEqual([{ id: ids[0], reason: expect.any(String) }]);
  });
});

describe('--progress=json', () => {
  let dir: string;
  let file: string;
  let index: string;
  let store: string;

  beforeAll(async () => {
    dir = await makeTempDir('desync-progress-');
    file = join(dir, 'file');
    index = join(dir, 'file.caibx');
    store = join(dir, 'store');
    await writeFile(file, randomBytes(3 * 1024 * 1024, 63));
    await desyncOk(['make', '-s', store, index, file]);
  });
  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  /** The progress events on stderr: every line must be one. */
  function events(stderr: string): Record<string, unknown>[] {
    return jsonLines(stderr) as Record<string, unknown>[];
  }

  it('prints one JSON object per event on stderr, stdout unchanged', async () => {
    const result = await desyncOk(['verify-index', '--progress=json', index, file]);
    expect(result.stdout.toString()).toMatch(/^OK: /);
    const all = events(result.stderr);
    expect(all[0]).toEqual({
      event: 'start',
      operation: 'verify-index',
      unit: 'bytes',
      done: 0,
      total: 3145728,
    });
    expect(all.at(-1)).toEqual({
      event: 'stop',
      operation: 'verify-index',
      unit: 'bytes',
      done: 3145728,
      total: 3145728,
    });
    for (const e of all.slice(1, -1))
      expect(e).toMatchObject({ event: 'progress', operation: 'verify-index' });
  });

  it('counts chunks for verify', async () => {
    const ids = await storeIds(store);
    const result = await desyncOk(['verify', '--progress', 'json', '-s', store]);
    const all = events(result.stderr);
    expect(all[0]).toMatchObject({ event: 'start', unit: 'chunks' });
    expect(all.at(-1)).toMatchObject({ event: 'stop', unit: 'chunks', done: ids.length });
  });

  it('reports for extract the bytes from each source so far', async () => {
    const out = join(dir, 'extracted');
    const result = await desyncOk(['extract', '--progress=json', '-s', store, index, out]);
    const all = events(result.stderr);
    expect(all[0]).toMatchObject({ event: 'start', operation: 'extract', total: 3145728 });
    expect(all.at(-1)).toMatchObject({ event: 'stop', done: 3145728, from: { [store]: 3145728 } });
  });

  it('is taken from DESYNC_PROGRESS by commands that do not declare the flag', async () => {
    const result = await desyncOk(['make', '-s', join(dir, 'store2'), join(dir, 'again.caibx'), file], {
      env: { DESYNC_PROGRESS: 'json' },
    });
    const all = events(result.stderr);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all[0]).toMatchObject({ event: 'start' });
    expect(all.at(-1)).toMatchObject({ event: 'stop' });
  });

  it('prints nothing with --progress=none, and refuses other values', async () => {
    const quiet = await desyncOk(['verify-index', '--progress=none', index, file]);
    expect(quiet.stderr).toBe('');
    const bad = await runDesync(['verify-index', '--progress=loud', index, file]);
    expect(bad.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
  });
});
