import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CATAR_UNIX_FLAGS,
  CatarFeatureFlags,
  CatarFormatError,
  catarToTar,
  decodeCatar,
  encodeCatar,
  tarToCatar,
} from '../src/index.js';
import { canMknod, makeTree } from './make-tree.js';
import { snapshotTree } from './snapshot-tree.js';
import { collect, gnuTar, streamOf } from './tar-helpers.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

// `tar -tv` lines without the date column (GNU tar prints local minutes only).
function listing(tarPath: string): string[] {
  return gnuTar(['--numeric-owner', '-tvf', tarPath])
    .toString()
    .trim()
    .split('\n')
    .map((line) => line.replace(/ \d{4}-\d\d-\d\d \d\d:\d\d /, ' '));
}

describe('catarToTar', () => {
  let work: string;
  let tree: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    work = await makeTempDir('desync-catar2tar-');
    tree = join(work, 'tree');
    const devices = canMknod(work);
    ({ close } = await makeTree(tree, [
      { kind: 'dir', path: 'd' },
      { kind: 'file', path: 'd/f', mode: 0o640, xattrs: { 'user.b': 'two', 'user.a': 'one\nline' } },
      { kind: 'dir', path: 'x', xattrs: { 'user.dir': 'yes' } },
      { kind: 'dir', path: 'd/ro', mode: 0o555 },
      { kind: 'file', path: 'd/none', mode: 0o000 },
      { kind: 'file', path: 'd/setuid', mode: 0o4755 },
      { kind: 'file', path: 'big', data: Buffer.alloc(1_000_003, 9) },
      { kind: 'file', path: 'ünïcode-名前' },
      { kind: 'file', path: `${'long-name-'.repeat(15)}end` },
      { kind: 'symlink', path: 'link', target: 'd/f' },
      { kind: 'symlink', path: 'long-link', target: 't'.repeat(150) },
      { kind: 'fifo', path: 'pipe', mode: 0o600 },
      { kind: 'socket', path: 'sock' },
      ...(devices
        ? [
            { kind: 'chardev' as const, path: 'null', major: 1, minor: 3 },
            { kind: 'blockdev' as const, path: 'blk', major: 259, minor: 70000 },
          ]
        : []),
    ]));
  });
  afterAll(async () => {
    await close();
    await removeTempDir(work);
  });

  it('writes a tar GNU tar extracts into the same tree (contents, modes, owners, ns mtimes)', async () => {
    const catar = await collect(encodeCatar(tree, { featureFlags: CATAR_UNIX_FLAGS }));
    const warnings: string[] = [];
    const tar = await collect(catarToTar(streamOf(catar, 777), { onWarning: (m) => warnings.push(m) }));
    expect(warnings).toEqual(['sockets cannot be stored in a tar; left out (first: sock)']);
    const tarPath = join(work, 'tree.tar');
    await writeFile(tarPath, tar);
    const out = join(work, 'out');
    await mkdir(out);
    gnuTar(['-C', out, '--same-owner', '--xattrs', '-xpf', tarPath]);
    expect(await snapshotTree(out)).toEqual(await snapshotTree(tree));
    const diff = spawnSync('diff', ['-r', '--no-dereference', tree, out], { encoding: 'utf8' });
    expect(
      diff.stdout
        .split('\n')
        .filter((l) => l !== '' && !/is a (fifo|block special file|character special file)$|: sock$/.test(l)),
    ).toEqual([]);
  });

  it('round-trips catar → tar → catar to the same catar', async () => {
    // A tar cannot hold sockets: leave them out of the catar too.
    const featureFlags = CATAR_UNIX_FLAGS & ~CatarFeatureFlags.WITH_SOCKETS;
    const catar = await collect(encodeCatar(tree, { featureFlags }));
    const tar = await collect(catarToTar(streamOf(catar)));
    const again = await collect(tarToCatar(streamOf(tar), { featureFlags }));
    expect(Buffer.compare(again, catar)).toBe(0);
  });

  it('turns desync’s complex.catar into what tar lists for complex.gnu-tar', async () => {
    const tar = await collect(catarToTar(streamOf(await readFile(join(FIXTURES, 'complex.catar')))));
    const tarPath = join(work, 'complex.tar');
    await writeFile(tarPath, tar);
    expect(listing(tarPath)).toEqual(listing(join(FIXTURES, 'complex.gnu-tar')));
  });

  it('leaves out, with one warning, xattr values a pax record cannot hold', async () => {
    const small = join(work, 'binary-xattr');
    await makeTree(small, [
      { kind: 'file', path: 'f', xattrs: { 'user.bin': Uint8Array.of(0xff, 0), 'user.ok': 'yes' } },
    ]);
    const catar = await collect(encodeCatar(small, { featureFlags: CATAR_UNIX_FLAGS }));
    const warnings: string[] = [];
    const tar = await collect(catarToTar(streamOf(catar), { onWarning: (m) => warnings.push(m) }));
    expect(warnings).toEqual(['extended attribute user.bin of f is not UTF-8 text; left out of the tar']);
    const back = await collect(tarToCatar(streamOf(tar), { featureFlags: CATAR_UNIX_FLAGS }));
    const xattrs: string[] = [];
    for await (const e of decodeCatar(streamOf(back)))
      for (const x of e.xattrs) xattrs.push(`${e.path} ${x.name}`);
    expect(xattrs).toEqual(['f user.ok']);
  });

  it('stops with CatarFormatError on a truncated archive', async () => {
    const catar = await collect(encodeCatar(tree, { featureFlags: CATAR_UNIX_FLAGS }));
    await expect(collect(catarToTar(streamOf(catar.subarray(0, 5000))))).rejects.toThrow(CatarFormatError);
  });

  it('can be abandoned half way', async () => {
    const catar = await collect(encodeCatar(tree, { featureFlags: CATAR_UNIX_FLAGS }));
    const it = catarToTar(streamOf(catar));
    expect((await it.next()).done).toBe(false);
    expect(await it.return(undefined)).toEqual({ done: true, value: undefined });
  });
});
