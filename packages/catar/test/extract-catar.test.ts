import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findCasync, makeTempDir, randomBytes, removeTempDir, requirePeer, runCasync } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATAR_UNIX_FLAGS, CatarFormatError, encodeCatar, extractCatar } from '../src/index.js';
import { craftCatar, streamOf } from './craft-catar.js';
import { type BuiltTree, makeTree, type TreeNode } from './make-tree.js';
import { snapshotTree } from './snapshot-tree.js';

const casync = requirePeer('casync', findCasync());
const fixtures = join(import.meta.dirname, 'fixtures');

const tree: TreeNode[] = [
  { kind: 'file', path: 'empty', data: new Uint8Array(0) },
  { kind: 'file', path: 'big', data: randomBytes(300 * 1024 + 3, 5) },
  { kind: 'file', path: 'm4755', mode: 0o4755 },
  { kind: 'file', path: 'm0000', mode: 0o000 },
  { kind: 'file', path: 'owned', owner: [1000, 1001] },
  { kind: 'dir', path: 'ro', mode: 0o555 },
  { kind: 'file', path: 'ro/inside', mode: 0o444 },
  { kind: 'dir', path: 'ro/deeper' },
  { kind: 'file', path: 'ro/deeper/x' },
  { kind: 'dir', path: 'sticky', mode: 0o1777 },
  { kind: 'symlink', path: 'rel', target: 'big' },
  { kind: 'symlink', path: 'abs', target: '/etc/passwd' },
  { kind: 'symlink', path: 'dangling', target: 'nope/nothing' },
  { kind: 'fifo', path: 'fifo', mode: 0o640 },
  { kind: 'socket', path: 'sock' },
  { kind: 'file', path: 'ü日本', data: Buffer.from('unicode') },
];

describe('extractCatar', () => {
  let work: string;
  let src: string;
  let built: BuiltTree;

  beforeAll(async () => {
    work = await makeTempDir('desync-extract-');
    src = join(work, 'src');
    built = await makeTree(src, tree, 21);
  });
  afterAll(async () => {
    await built.close();
    // Read-only directories must be writable to be removed by a non-root user.
    await chmod(join(work, 'src', 'ro'), 0o755).catch(() => {});
    await removeTempDir(work);
  });

  it('round-trips encodeCatar: bytes, modes, owners, ns mtimes, symlinks, FIFOs', async () => {
    const out = join(work, 'rt');
    const warnings: string[] = [];
    await extractCatar(encodeCatar(src, { featureFlags: CATAR_UNIX_FLAGS }), out, {
      onWarning: (w) => warnings.push(w),
    });
    expect(await snapshotTree(out)).toEqual(await snapshotTree(src));
    expect(warnings).toEqual([expect.stringMatching(/sockets are skipped/)]);
    expect((await lstat(join(out, 'fifo'))).isFIFO()).toBe(true);
    expect((await stat(join(out, 'ro'))).mode & 0o7777).toBe(0o555);
  });

  it('leaves owners alone when sameOwner is false', async () => {
    const out = join(work, 'noowner');
    await extractCatar(encodeCatar(src, { featureFlags: CATAR_UNIX_FLAGS }), out, { sameOwner: false });
    expect((await stat(join(out, 'owned'))).uid).toBe(process.getuid?.());
  });

  it('refuses a non-empty directory unless overwrite, naming it', async () => {
    const out = join(work, 'busy');
    await mkdir(out);
    await writeFile(join(out, 'keep'), 'x');
    const bytes = craftCatar({
      kind: 'dir',
      children: [{ kind: 'file', name: 'a', data: Buffer.from('new') }],
    });
    await expect(extractCatar(streamOf(bytes), out)).rejects.toMatchObject({
      code: 'FILE_ERROR',
      message: expect.stringContaining(out),
    });
    await writeFile(join(out, 'a'), 'old');
    await extractCatar(streamOf(bytes), out, { overwrite: true });
    expect(await readFile(join(out, 'a'), 'utf8')).toBe('new');
    expect(await readFile(join(out, 'keep'), 'utf8')).toBe('x');
  });

  it('extracts into an existing empty directory', async () => {
    const out = join(work, 'empty-target');
    await mkdir(out);
    await extractCatar(streamOf(craftCatar({ kind: 'dir', children: [] })), out);
    expect(await readdir(out)).toEqual([]);
  });

  it('never writes through a symlink from the archive', async () => {
    const outside = join(work, 'outside');
    await mkdir(outside);
    for (const [i, hostile] of [
      // A symlink, then a directory of the same name holding a file.
      {
        kind: 'dir' as const,
        children: [
          { kind: 'symlink' as const, name: 'link', target: outside },
          {
            kind: 'dir' as const,
            name: 'link',
            children: [{ kind: 'file' as const, name: 'x', data: Buffer.from('pwn') }],
          },
        ],
      },
      // A symlink, then an entry named 'link/x'.
      {
        kind: 'dir' as const,
        children: [
          { kind: 'symlink' as const, name: 'link', target: outside },
          { kind: 'file' as const, name: 'link/x', data: Buffer.from('pwn') },
        ],
      },
      { kind: 'dir' as const, children: [{ kind: 'file' as const, name: '..', data: Buffer.from('pwn') }] },
    ].entries()) {
      const out = join(work, `hostile${i}`);
      await expect(extractCatar(streamOf(craftCatar(hostile)), out)).rejects.toBeInstanceOf(CatarFormatError);
      await expect(
        extractCatar(streamOf(craftCatar(hostile)), out, { overwrite: true }),
      ).rejects.toBeInstanceOf(CatarFormatError);
      expect(await readdir(outside)).toEqual([]);
    }
  });

  it('stops on a truncated archive and leaves the partial tree', async () => {
    const bytes = craftCatar({
      kind: 'dir',
      children: [
        { kind: 'file', name: 'a', data: Buffer.from('first') },
        { kind: 'file', name: 'b', data: Buffer.alloc(1000, 1) },
      ],
    });
    const out = join(work, 'partial');
    await expect(extractCatar(streamOf(bytes.subarray(0, bytes.length - 600)), out)).rejects.toBeInstanceOf(
      CatarFormatError,
    );
    expect(await readFile(join(out, 'a'), 'utf8')).toBe('first');
  });

  it('refuses an archive whose root is not a directory', async () => {
    const bytes = craftCatar({ kind: 'file', data: Buffer.from('x') });
    await expect(extractCatar(streamOf(bytes), join(work, 'fileroot'))).rejects.toMatchObject({
      code: 'FILE_ERROR',
    });
  });

  for (const name of ['flat', 'flatdir', 'nested', 'complex']) {
    it(`extracts desync's ${name}.catar${casync ? ' as casync extract does' : ''}`, async () => {
      const path = join(fixtures, `${name}.catar`);
      const ours = join(work, `fx-${name}`);
      await extractCatar(createReadStream(path), ours, { name: path });
      expect((await snapshotTree(ours)).length).toBeGreaterThan(1);
      if (casync) {
        const theirs = join(work, `fx-${name}-casync`);
        // The archives name users this system does not have; casync then fails with ESRCH.
        await runCasync(['extract', '--without=user-names', path, theirs]);
        expect(await snapshotTree(ours)).toEqual(await snapshotTree(theirs));
        await rm(theirs, { recursive: true });
      }
    });
  }
});
