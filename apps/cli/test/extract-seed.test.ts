import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, randomBytes, removeTempDir, writeMixedFile } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desyncOk, expectOneLineError, runDesync } from './helpers.js';

const MiB = 1024 * 1024;

// extract --seed / --seed-dir / --json through the command line: v2 extracted with v1 as
// seed fetches only what changed, and the JSON statistics say where the bytes came from.
describe('extract with seeds', () => {
  let root: string;
  let v1: string;
  let v2: string;
  let v2Bytes: Buffer;
  let store: string;

  beforeAll(async () => {
    root = await makeTempDir('desync-seed-');
    v1 = join(root, 'seeds', 'v1.raw');
    v2 = join(root, 'v2.raw');
    await mkdir(join(root, 'seeds'));
    await writeMixedFile(v1, 6 * MiB, 1);
    v2Bytes = Buffer.concat([await readFile(v1), Buffer.from(randomBytes(MiB, 2))]);
    Buffer.from(randomBytes(100_000, 3)).copy(v2Bytes, 2 * MiB);
    await writeFile(v2, v2Bytes);
    store = join(root, 'store');
    await desyncOk(['make', '-s', join(root, 'v1-store'), `${v1}.caibx`, v1]);
    await desyncOk(['make', '-s', store, `${v2}.caibx`, v2]);
  });
  afterAll(() => removeTempDir(root));

  const stats = (stdout: Buffer) =>
    JSON.parse(stdout.toString()) as {
      seedChunks: number;
      fetchedChunks: number;
      chunks: number;
      bytesFrom: Record<string, number>;
    };

  it('--seed X.caibx copies from X and --json reports it', async () => {
    const out = join(root, 'out1.raw');
    const r = await desyncOk(['extract', '--json', '-s', store, '--seed', `${v1}.caibx`, `${v2}.caibx`, out]);
    expect(Buffer.compare(await readFile(out), v2Bytes)).toBe(0);
    const s = stats(r.stdout);
    expect(s.seedChunks).toBeGreaterThan(s.chunks / 2);
    expect(s.bytesFrom.seed).toBeGreaterThan(4 * MiB);
  });

  it('--seed-dir finds X.caibx beside X; a plain file seed works without an index', async () => {
    const out2 = join(root, 'out2.raw');
    const a = stats(
      (
        await desyncOk([
          'extract',
          '--json',
          '-s',
          store,
          '--seed-dir',
          join(root, 'seeds'),
          `${v2}.caibx`,
          out2,
        ])
      ).stdout,
    );
    expect(a.seedChunks).toBeGreaterThan(a.chunks / 2);
    const out3 = join(root, 'out3.raw');
    const b = stats(
      (await desyncOk(['extract', '--json', '-s', store, '--seed', v1, `${v2}.caibx`, out3])).stdout,
    );
    expect(b.seedChunks).toBeGreaterThan(b.chunks / 2);
    expect(Buffer.compare(await readFile(out3), v2Bytes)).toBe(0);
  });

  it('a block device seed is chunked on the fly (root with a loop device only)', async (ctx) => {
    let device: string;
    try {
      device = execFileSync('losetup', ['-f', '--show', '-r', v1], { encoding: 'utf8' }).trim();
    } catch {
      ctx.skip();
      return;
    }
    try {
      const out = join(root, 'out4.raw');
      const s = stats(
        (await desyncOk(['extract', '--json', '-s', store, '--seed', device, `${v2}.caibx`, out])).stdout,
      );
      expect(s.seedChunks).toBeGreaterThan(s.chunks / 2);
      expect(Buffer.compare(await readFile(out), v2Bytes)).toBe(0);
    } finally {
      execFileSync('losetup', ['-d', device]);
    }
  });

  it('a missing seed is a one-line error naming it, and no output appears', async () => {
    const out = join(root, 'out5.raw');
    const missing = join(root, 'missing.raw');
    const r = await runDesync(['extract', '-s', store, '--seed', missing, `${v2}.caibx`, out]);
    expect(r.code).not.toBe(0);
    expectOneLineError(r, [missing]);
    await expect(readFile(out)).rejects.toThrow();
    await rm(out, { force: true });
  });
});
