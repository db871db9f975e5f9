import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CATAR_UNIX_FLAGS, encodeCatar } from '@desync/catar';
import { Chunk, type ChunkId, ChunkMissing, type Store } from '@desync/core';
import { ChunkIndex, type IndexChunk } from '@desync/index-format';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArchiveTree } from '../src/archive-tree.js';
import { BlobReader } from '../src/index.js';

/** A reader over `bytes` cut into chunks of `size` bytes, kept in memory. */
function readerOver(bytes: Uint8Array, size: number): BlobReader {
  const chunks = new Map<ChunkId, Uint8Array>();
  const table: IndexChunk[] = [];
  for (let start = 0; start < bytes.length; start += size) {
    const data = bytes.subarray(start, start + size);
    const chunk = Chunk.fromPlain(data);
    chunks.set(chunk.id, data);
    table.push({ start, size: data.length, id: chunk.id });
  }
  const store: Store = {
    getChunk: async (id) => {
      const data = chunks.get(id);
      if (!data) throw new ChunkMissing(id, 'memory');
      return Chunk.fromPlain(data, id);
    },
    hasChunk: async (id) => chunks.has(id),
    close: async () => undefined,
    toString: () => 'memory',
  };
  const index = ChunkIndex.fromChunks(table, CATAR_UNIX_FLAGS, { min: size, avg: size, max: size });
  return new BlobReader({ index, store });
}

describe('buildArchiveTree', () => {
  let dir: string;
  let archive: Uint8Array;

  beforeAll(async () => {
    dir = await makeTempDir('desync-fuse-tree-');
    const root = join(dir, 'root');
    // Files at the end of nested directories, empty files and directories, and a last entry
    // that closes several directories: every way a payload's end is found.
    await mkdir(join(root, 'a', 'b', 'c'), { recursive: true });
    await mkdir(join(root, 'empty'));
    await writeFile(join(root, '0first'), randomBytes(10, 1));
    await writeFile(join(root, 'a', 'b', 'c', 'deep'), randomBytes(5000, 2));
    await writeFile(join(root, 'a', 'b', 'zero'), '');
    await writeFile(join(root, 'a', 'ñame with spaces'), randomBytes(1234, 3));
    await symlink('a/b', join(root, 'a-link'));
    await mkdir(join(root, 'z', 'y'), { recursive: true });
    await writeFile(join(root, 'z', 'y', 'last'), randomBytes(777, 4));
    const parts: Uint8Array[] = [];
    for await (const part of encodeCatar(root, { featureFlags: CATAR_UNIX_FLAGS })) parts.push(part);
    archive = Buffer.concat(parts);
  });
  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  it.each([97, 4096, 1 << 20])(
    'finds every payload in the archive stream (chunks of %i bytes)',
    async (size) => {
      const reader = readerOver(archive, size);
      const tree = await buildArchiveTree(reader, 'test.caidx');
      const files = [...tree].filter(([, node]) => node.kind === 'file');
      expect(files.map(([path]) => path).sort()).toEqual([
        '/0first',
        '/a/b/c/deep',
        '/a/b/zero',
        '/a/ñame with spaces',
        '/z/y/last',
      ]);
      for (const [path, node] of files) {
        const expected = await readFile(join(dir, 'root', path));
        const got = await reader.read(node.payloadOffset, node.size);
        expect(Buffer.from(got).equals(expected), path).toBe(true);
      }
    },
  );

  it('records directories with their children, symlinks with their targets', async () => {
    const tree = await buildArchiveTree(readerOver(archive, 4096), 'test.caidx');
    expect(tree.get('/')?.children).toEqual(['0first', 'a', 'a-link', 'empty', 'z']);
    expect(tree.get('/')?.subdirs).toBe(3);
    expect(tree.get('/empty')?.children).toEqual([]);
    expect(tree.get('/a-link')).toMatchObject({ kind: 'symlink', target: 'a/b', size: 3 });
    expect((tree.get('/a/b/c/deep')?.mode ?? 0) & 0o170000).toBe(0o100000);
  });
});
