import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Aborted, InvalidArgument } from '@desync/core';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CATAR_UNIX_FLAGS,
  type CatarEntry,
  decodeCatar,
  encodeCatar,
  CatarFeatureFlags as F,
  TarFormatError,
  tarToCatar,
} from '../src/index.js';
import { canMknod, makeTree } from './make-tree.js';
import { collect, craftTar, fileStream, gnuTar, streamOf } from './tar-helpers.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

async function convert(tar: Uint8Array, options?: { memoryLimit?: number; tempDir?: string }) {
  return collect(tarToCatar(streamOf(tar), { featureFlags: CATAR_UNIX_FLAGS, ...options }));
}

interface Decoded {
  path: string;
  kind: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  extra: string;
}

async function decodeAll(catar: Uint8Array): Promise<Decoded[]> {
  const out: Decoded[] = [];
  for await (const e of decodeCatar(streamOf(catar))) {
    out.push({
      path: e.path,
      kind: e.kind,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      mtimeNs: e.mtimeNs,
      extra: await extraOf(e),
    });
  }
  return out;
}

async function extraOf(e: CatarEntry): Promise<string> {
  if (e.kind === 'file') return (await collect(e.content)).toString('latin1');
  if (e.kind === 'symlink') return e.target;
  if (e.kind === 'device') return `${e.major}:${e.minor}`;
  return '';
}

async function xattrsByPath(catar: Uint8Array): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const e of decodeCatar(streamOf(catar))) {
    if (e.xattrs.length > 0)
      out.set(
        e.path,
        e.xattrs.map((x) => `${x.name}=${Buffer.from(x.value)}`),
      );
  }
  return out;
}

describe('tarToCatar', () => {
  let work: string;
  let tree: string;
  beforeAll(async () => {
    work = await makeTempDir('desync-tar2catar-');
    tree = join(work, 'tree');
    const devices = canMknod(work);
    await makeTree(tree, [
      { kind: 'dir', path: 'd' },
      { kind: 'file', path: 'd/f', mode: 0o640, xattrs: { 'user.b': 'two', 'user.a': 'one\nline' } },
      { kind: 'dir', path: 'x', xattrs: { 'user.dir': 'yes' } },
      { kind: 'dir', path: 'd/empty', mode: 0o700 },
      { kind: 'file', path: 'g' },
      { kind: 'file', path: '.caexclude', data: Buffer.from('*.tmp\n!keep.tmp\nd/empty/\n') },
      { kind: 'file', path: 'skip.tmp' },
      { kind: 'file', path: 'keep.tmp' },
      { kind: 'file', path: 'd/deep.tmp' },
      { kind: 'file', path: 'big', data: Buffer.alloc(300_000, 7) },
      { kind: 'file', path: 'Zed' },
      { kind: 'file', path: 'ünïcode-名前' },
      { kind: 'file', path: `${'long-name-'.repeat(15)}end` },
      { kind: 'dir', path: `${'deep-dir-'.repeat(12)}x` },
      { kind: 'file', path: `${'deep-dir-'.repeat(12)}x/${'file-'.repeat(25)}y` },
      { kind: 'symlink', path: 'link', target: 'd/f' },
      { kind: 'symlink', path: 'long-link', target: `${'t'.repeat(150)}` },
      { kind: 'fifo', path: 'pipe', mode: 0o600 },
      ...(devices
        ? [
            { kind: 'chardev' as const, path: 'null', major: 1, minor: 3 },
            { kind: 'blockdev' as const, path: 'blk', major: 259, minor: 70000 },
          ]
        : []),
    ]);
  });
  afterAll(async () => {
    await removeTempDir(work);
  });

  it.each(['posix', 'gnu', 'ustar'])(
    'writes what encodeCatar writes for the tree GNU tar (--format=%s) extracts',
    async (format) => {
      const tarPath = join(work, `tree-${format}.tar`);
      gnuTar([`--format=${format}`, '--xattrs', '-C', tree, '-cf', tarPath, '.']);
      const out = join(work, `extracted-${format}`);
      await mkdir(out);
      gnuTar(['-C', out, '--xattrs', '-xpf', tarPath]);
      const expected = await collect(encodeCatar(out, { featureFlags: CATAR_UNIX_FLAGS }));
      const ours = await collect(tarToCatar(fileStream(tarPath), { featureFlags: CATAR_UNIX_FLAGS }));
      expect(Buffer.compare(ours, expected)).toBe(0);
      const paths = (await decodeAll(ours)).map((e) => e.path);
      expect(paths).toContain('keep.tmp');
      expect(paths).toContain('.caexclude');
      for (const excluded of ['skip.tmp', 'd/deep.tmp', 'd/empty']) expect(paths).not.toContain(excluded);
      const xattrs = await xattrsByPath(ours);
      expect(xattrs.get('d/f')).toEqual(['user.a=one\nline', 'user.b=two']);
      expect(xattrs.get('x')).toEqual(['user.dir=yes']);
      if (format === 'posix') {
        // pax keeps nanoseconds: the archive of the original tree comes out.
        const original = await collect(encodeCatar(tree, { featureFlags: CATAR_UNIX_FLAGS }));
        expect(Buffer.compare(ours, original)).toBe(0);
      }
    },
  );

  it('reads pre-POSIX (v7) tars', async () => {
    const tarPath = join(work, 'v7.tar');
    gnuTar(['--format=v7', '-C', tree, '-cf', tarPath, 'g', 'd']);
    const paths = (await decodeAll(await convert(await readFile(tarPath)))).map((e) => e.path);
    expect(paths).toEqual(['', 'd', 'd/deep.tmp', 'd/empty', 'd/f', 'g']);
  });

  it('reads names in any order and sorts each directory bytewise, as casync does', async () => {
    gnuTar([
      '--format=posix',
      '--no-recursion',
      '-C',
      tree,
      '-cf',
      join(work, 'unsorted.tar'),
      'g',
      'd/f',
      '.',
      'd',
      'Zed',
    ]);
    const tar = await readFile(join(work, 'unsorted.tar'));
    const paths = (await decodeAll(await convert(tar))).map((e) => e.path);
    expect(paths).toEqual(['', 'Zed', 'd', 'd/f', 'g']);
  });

  it('turns desync’s complex.gnu-tar into the tree of complex.catar', async () => {
    const flags = CATAR_UNIX_FLAGS | F.WITH_XATTRS; // the flags complex.catar records
    const ours = await collect(
      tarToCatar(fileStream(join(FIXTURES, 'complex.gnu-tar')), { featureFlags: flags }),
    );
    const expected = await readFile(join(FIXTURES, 'complex.catar'));
    // The GNU tar keeps whole seconds; complex.catar has nanoseconds.
    const truncate = (es: Decoded[]) =>
      es.map((e) => ({ ...e, mtimeNs: (e.mtimeNs / 1_000_000_000n) * 1_000_000_000n }));
    expect(truncate(await decodeAll(ours))).toEqual(truncate(await decodeAll(expected)));
    expect(ours.length).toBe(expected.length);
    expect(ours.readBigUInt64LE(16)).toBe(expected.readBigUInt64LE(16));
  });

  it('copies hard-linked contents and gives links the target’s metadata', async () => {
    const tar = await craftTar([
      { header: { name: 'a.txt', mode: 0o600, uid: 7, gid: 8 }, data: 'shared' },
      { header: { name: 'sub/b.txt', type: 'link', linkname: './a.txt', mode: 0o644 } },
    ]);
    const entries = await decodeAll(await convert(tar, { memoryLimit: 0 }));
    const a = entries.find((e) => e.path === 'a.txt');
    const b = entries.find((e) => e.path === 'sub/b.txt');
    expect(b).toEqual({ ...a, path: 'sub/b.txt' });
    expect(b?.extra).toBe('shared');
  });

  it('gives implied directories mode 0755, uid/gid 0 and mtime 0; "." sets the root', async () => {
    const tar = await craftTar([
      { header: { name: 'x/y/z.txt', mode: 0o644 }, data: 'z' },
      { header: { name: './', type: 'directory', mode: 0o750, uid: 5, gid: 6 } },
      { header: { name: 'x/', type: 'directory', mode: 0o711 } },
    ]);
    const entries = await decodeAll(await convert(tar));
    expect(entries.map((e) => [e.path, e.mode.toString(8), e.uid, e.gid, e.mtimeNs])).toEqual([
      ['', '40750', 5, 6, 1_600_000_000_000_000_000n],
      ['x', '40711', 0, 0, 1_600_000_000_000_000_000n],
      ['x/y', '40755', 0, 0, 0n],
      ['x/y/z.txt', '100644', 0, 0, 1_600_000_000_000_000_000n],
    ]);
  });

  it('takes nanosecond mtimes, uids and long names from pax headers; devices and FIFOs', async () => {
    const long = `${'n'.repeat(200)}/${'ü'.repeat(80)}`;
    const tar = await craftTar([
      { header: { name: long, pax: { mtime: '1700000000.123456789', uid: '4000000000' } }, data: 'x' },
      { header: { name: 'cdev', type: 'character-device', devmajor: 4, devminor: 64 } },
      { header: { name: 'bdev', type: 'block-device', devmajor: 8, devminor: 1 } },
      { header: { name: 'fifo', type: 'fifo', mode: 0o620 } },
    ]);
    const entries = await decodeAll(await convert(tar));
    const file = entries.find((e) => e.path === long);
    expect(file?.mtimeNs).toBe(1_700_000_000_123_456_789n);
    expect(file?.uid).toBe(4_000_000_000);
    expect(entries.find((e) => e.path === 'cdev')).toMatchObject({ mode: 0o20644, extra: '4:64' });
    expect(entries.find((e) => e.path === 'bdev')).toMatchObject({ mode: 0o60644, extra: '8:1' });
    expect(entries.find((e) => e.path === 'fifo')).toMatchObject({ kind: 'fifo', mode: 0o10620 });
  });

  it('stores user./trusted. xattrs of files and directories from SCHILY and LIBARCHIVE records', async () => {
    const tar = await craftTar([
      {
        header: {
          name: 'f',
          pax: {
            'SCHILY.xattr.user.z': 'last',
            'SCHILY.xattr.security.selinux': 'not stored',
            'LIBARCHIVE.xattr.user.b%3Dc': Buffer.from([0xff, 0]).toString('base64'),
          },
        },
        data: 'x',
      },
      { header: { name: 'l', type: 'symlink', linkname: 'f', pax: { 'SCHILY.xattr.user.s': 'no' } } },
    ]);
    const catar = await convert(tar);
    const entries: Record<string, { name: string; value: string }[]> = {};
    for await (const e of decodeCatar(streamOf(catar))) {
      entries[e.path] = e.xattrs.map((x) => ({ name: x.name, value: Buffer.from(x.value).toString('hex') }));
    }
    expect(entries).toEqual({
      '': [],
      f: [
        { name: 'user.b=c', value: 'ff00' },
        { name: 'user.z', value: Buffer.from('last').toString('hex') },
      ],
      l: [],
    });
    const without = await collect(
      tarToCatar(streamOf(tar), { featureFlags: CATAR_UNIX_FLAGS & ~F.WITH_XATTRS }),
    );
    expect((await xattrsByPath(without)).size).toBe(0);
  });

  it('lets a later entry replace an earlier one of the same name, as extraction does', async () => {
    const tar = await craftTar([
      { header: { name: 'f' }, data: 'old' },
      { header: { name: 'f' }, data: 'new' },
    ]);
    const entries = await decodeAll(await convert(tar));
    expect(entries.map((e) => [e.path, e.extra])).toEqual([
      ['', ''],
      ['f', 'new'],
    ]);
  });

  it.each([
    ['/etc/passwd', 'absolute'],
    ['../escape', '".."'],
    ['a/../../b', '".."'],
  ])('refuses the unsafe name %s with one error naming it', async (name, why) => {
    const tar = await craftTar([
      { header: { name: 'ok' }, data: 'fine' },
      { header: { name }, data: 'evil' },
    ]);
    const err = await convert(tar).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TarFormatError);
    expect((err as TarFormatError).code).toBe('TAR_FORMAT');
    expect((err as Error).message).toContain(JSON.stringify(name));
    expect((err as Error).message).toContain(why);
  });

  it('refuses a hard link to an entry not earlier in the archive, and a path through a file', async () => {
    const link = await craftTar([{ header: { name: 'l', type: 'link', linkname: 'missing' } }]);
    await expect(convert(link)).rejects.toThrow(/"l".*"missing".*not earlier/);
    const through = await craftTar([
      { header: { name: 'f' }, data: 'x' },
      { header: { name: 'f/g' }, data: 'y' },
    ]);
    await expect(convert(through)).rejects.toThrow(/"f\/g".*f is not a directory/);
  });

  it('refuses a truncated or corrupt tar with TarFormatError', async () => {
    const tar = await craftTar([{ header: { name: 'f' }, data: Buffer.alloc(5000, 1) }]);
    await expect(convert(tar.subarray(0, 2048))).rejects.toThrow(TarFormatError);
    const corrupt = Buffer.from(tar);
    corrupt[148] = 0x39; // checksum
    await expect(convert(corrupt)).rejects.toThrow(TarFormatError);
  });

  it('spools payloads to a temporary directory it removes, also on error', async () => {
    const spool = join(work, 'spool');
    await mkdir(spool);
    const tar = await craftTar([
      { header: { name: 'a' }, data: Buffer.alloc(200_000, 1) },
      { header: { name: 'b' }, data: Buffer.alloc(10, 2) },
    ]);
    const entries = await decodeAll(await convert(tar, { memoryLimit: 0, tempDir: spool }));
    expect(entries.map((e) => e.extra.length)).toEqual([0, 200_000, 10]);
    expect(await readdir(spool)).toEqual([]);
    const bad = await craftTar([
      { header: { name: 'a' }, data: Buffer.alloc(200_000, 1) },
      { header: { name: '../b' }, data: 'x' },
    ]);
    await expect(convert(bad, { memoryLimit: 0, tempDir: spool })).rejects.toThrow(TarFormatError);
    expect(await readdir(spool)).toEqual([]);
    // Abandoning the output half way removes it too.
    const it = tarToCatar(streamOf(tar), { featureFlags: CATAR_UNIX_FLAGS, memoryLimit: 0, tempDir: spool });
    await it.next();
    await it.return(undefined);
    expect(await readdir(spool)).toEqual([]);
  });

  it('refuses unsupported flags and stops when aborted', async () => {
    const tar = await craftTar([{ header: { name: 'f' }, data: 'x' }]);
    await expect(
      collect(tarToCatar(streamOf(tar), { featureFlags: CATAR_UNIX_FLAGS | F.WITH_ACL })),
    ).rejects.toThrow(InvalidArgument);
    const controller = new AbortController();
    controller.abort();
    await expect(
      collect(tarToCatar(streamOf(tar), { featureFlags: CATAR_UNIX_FLAGS, signal: controller.signal })),
    ).rejects.toThrow(Aborted);
  });
});
