import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Aborted, FileError, InvalidArgument } from '@desync/core';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CA_FORMAT_ENTRY,
  CA_FORMAT_GOODBYE,
  CA_FORMAT_GOODBYE_TAIL_MARKER,
  CATAR_UNIX_FLAGS,
  encodeCatar,
  CatarFeatureFlags as F,
  writeCatar,
} from '../src/index.js';
import { makeTree } from './make-tree.js';

async function collect(root: string, featureFlags: bigint, signal?: AbortSignal): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const b of encodeCatar(root, { featureFlags, signal })) parts.push(b);
  return Buffer.concat(parts);
}

describe('encodeCatar', () => {
  let work: string;
  let tree: string;
  beforeAll(async () => {
    work = await makeTempDir('desync-catar-enc-');
    tree = join(work, 'tree');
    await makeTree(tree, [
      { kind: 'dir', path: 'd' },
      { kind: 'file', path: 'd/f' },
      { kind: 'file', path: 'g' },
    ]);
  });
  afterAll(async () => {
    await removeTempDir(work);
  });

  it('starts with the root ENTRY and ends with the root GOODBYE tail', async () => {
    const b = await collect(tree, CATAR_UNIX_FLAGS);
    expect(b.readBigUInt64LE(0)).toBe(64n);
    expect(b.readBigUInt64LE(8)).toBe(CA_FORMAT_ENTRY);
    expect(b.readBigUInt64LE(16)).toBe(CATAR_UNIX_FLAGS);
    const size = Number(b.readBigUInt64LE(b.length - 16));
    expect(b.readBigUInt64LE(b.length - 8)).toBe(CA_FORMAT_GOODBYE_TAIL_MARKER);
    expect(b.readBigUInt64LE(b.length - size + 8)).toBe(CA_FORMAT_GOODBYE);
    // Tail offset: from the root ENTRY (byte 0) to the goodbye.
    expect(Number(b.readBigUInt64LE(b.length - 24))).toBe(b.length - size);
  });

  it('records the normalized flags, as casync does', async () => {
    const b = await collect(tree, F.WITH_16BIT_UIDS | F.WITH_32BIT_UIDS | F.WITH_SEC_TIME | F.WITH_NSEC_TIME);
    expect(b.readBigUInt64LE(16)).toBe(F.WITH_32BIT_UIDS | F.WITH_NSEC_TIME);
  });

  it('refuses flags it cannot honour with InvalidArgument', async () => {
    for (const flag of [F.WITH_USER_NAMES, F.WITH_ACL, F.WITH_FLAG_NODUMP, F.EXCLUDE_SUBMOUNTS]) {
      await expect(collect(tree, CATAR_UNIX_FLAGS | flag)).rejects.toBeInstanceOf(InvalidArgument);
    }
    await expect(collect(tree, -1n)).rejects.toBeInstanceOf(InvalidArgument);
  });

  it('names a missing root in a one-line FileError', async () => {
    const missing = join(work, 'missing');
    const err = await collect(missing, CATAR_UNIX_FLAGS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('FILE_ERROR');
    expect((err as FileError).file).toBe(missing);
    expect((err as FileError).message).toBe(`${missing}: no such file or directory`);
  });

  it('refuses a root that is not a directory', async () => {
    const err = await collect(join(tree, 'g'), CATAR_UNIX_FLAGS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).file).toBe(join(tree, 'g'));
  });

  it('refuses a .caexclude line casync refuses (a .. component), naming the file', async () => {
    const root = join(work, 'excl');
    await mkdir(root);
    await writeFile(join(root, '.caexclude'), '*.log\na/../b\n');
    const err = await collect(root, CATAR_UNIX_FLAGS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).file).toBe(join(root, '.caexclude'));
    expect((err as FileError).message).toMatch(/a\/\.\.\/b/);
    // Without EXCLUDE_FILE the file is just a file.
    await expect(collect(root, CATAR_UNIX_FLAGS & ~F.EXCLUDE_FILE)).resolves.toBeInstanceOf(Buffer);
  });

  it('stops with Aborted when the signal aborts', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(collect(tree, CATAR_UNIX_FLAGS, ac.signal)).rejects.toBeInstanceOf(Aborted);
  });
});

describe('writeCatar', () => {
  let work: string;
  beforeAll(async () => {
    work = await makeTempDir('desync-catar-write-');
    await makeTree(join(work, 'tree'), [{ kind: 'file', path: 'f' }]);
  });
  afterAll(async () => {
    await removeTempDir(work);
  });

  it('writes what encodeCatar streams', async () => {
    const out = join(work, 'out.catar');
    await writeCatar(join(work, 'tree'), out, { featureFlags: CATAR_UNIX_FLAGS });
    expect((await readFile(out)).equals(await collect(join(work, 'tree'), CATAR_UNIX_FLAGS))).toBe(true);
  });

  it('leaves neither the archive nor a temporary file when encoding fails', async () => {
    const outDir = join(work, 'out');
    await mkdir(outDir);
    await expect(
      writeCatar(join(work, 'missing'), join(outDir, 'x.catar'), { featureFlags: CATAR_UNIX_FLAGS }),
    ).rejects.toBeInstanceOf(FileError);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('names the output in a FileError when it cannot be written', async () => {
    const out = join(work, 'no-such-dir', 'x.catar');
    const err = await writeCatar(join(work, 'tree'), out, { featureFlags: CATAR_UNIX_FLAGS }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).file).toBe(out);
  });
});
