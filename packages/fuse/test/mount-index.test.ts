import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm, rmdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileError, InvalidArgument } from '@desync/core';
import { type ChunkIndex, readIndex } from '@desync/index-format';
import { LocalStore } from '@desync/store-local';
import {
  findFusermount,
  lookUpPeer,
  makeTempDir,
  Prng,
  randomBytes,
  removeTempDir,
  runCli,
  writeMixedFile,
} from '@desync/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type IndexMount, isArchiveIndex, mountIndex } from '../src/index.js';

// These tests mount in this process, so the mount is served by this event loop: every access
// to it goes through a child process (cmp, dd, diff, stat), never a blocking call from here.

const { path: fusermount, missingInCi } = lookUpPeer('fusermount', findFusermount());

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs a program asynchronously; a non-zero exit is a result. */
function run(file: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

/** `length` bytes at `offset` of `file`, read by dd in a child process. */
function readRange(file: string, offset: number, length: number): Promise<Run> {
  return run('dd', [
    `if=${file}`,
    'iflag=skip_bytes,count_bytes',
    `skip=${offset}`,
    `count=${length}`,
    'bs=65536',
    'status=none',
  ]);
}

async function desync(args: string[]): Promise<void> {
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`desync ${args.join(' ')}: ${r.stderr}`);
}

describe('mountIndex', () => {
  it.runIf(missingInCi !== undefined)('has fusermount on PATH when CI=true', () => {
    throw missingInCi;
  });

  describe.runIf(fusermount !== undefined)('with FUSE', () => {
    let dir: string;
    let storeDir: string;
    let blobFile: string;
    let blob: Buffer;
    let blobIndex: ChunkIndex;
    let tree: string;
    let treeIndex: ChunkIndex;
    /** Whether a user xattr could be set in the tree (python3 present, filesystem supports it). */
    let withXattr = false;
    const mounts: IndexMount[] = [];

    beforeAll(async () => {
      dir = await makeTempDir('desync-fuse-');
      storeDir = join(dir, 'store');
      blobFile = join(dir, 'blob.bin');
      await writeMixedFile(blobFile, 3 * 1024 * 1024 + 12345, 11);
      blob = await readFile(blobFile);
      await desync(['make', '-s', storeDir, join(dir, 'blob.caibx'), blobFile]);
      blobIndex = await readIndex(join(dir, 'blob.caibx'));

      tree = join(dir, 'tree');
      await mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
      await mkdir(join(tree, 'empty-dir'));
      await writeFile(join(tree, 'a.txt'), 'hello\n');
      await writeFile(join(tree, 'secret'), randomBytes(5000, 2));
      await chmod(join(tree, 'secret'), 0o600);
      await writeMixedFile(join(tree, 'sub', 'big.bin'), 2 * 1024 * 1024, 3);
      await writeFile(join(tree, 'sub', 'deeper', 'zero'), '');
      await writeFile(join(tree, 'sub', 'ünïcode name'), randomBytes(70_000, 4));
      await chmod(join(tree, 'sub', 'deeper'), 0o750);
      await symlink('sub/big.bin', join(tree, 'link'));
      await symlink('/nowhere/at/all', join(tree, 'sub', 'dangling'));
      await utimes(join(tree, 'a.txt'), 1_600_000_000, 1_600_000_000.5);
      const setXattr = `import os; os.setxattr('${join(tree, 'a.txt')}', 'user.comment', b'why not')`;
      withXattr = (await run('python3', ['-c', setXattr])).code === 0;
      await desync(['tar', '-i', '-s', storeDir, join(dir, 'tree.caidx'), tree]);
      treeIndex = await readIndex(join(dir, 'tree.caidx'));
    });

    afterEach(async () => {
      // Never leave a mount behind, whatever failed; rmdir (not rm -r) never walks into a mount.
      for (const m of mounts.splice(0)) {
        await m.unmount().catch(() => undefined);
        await rmdir(m.mountpoint).catch(() => undefined);
      }
    });
    afterAll(async () => {
      if (dir) await removeTempDir(dir);
    });

    async function mount(index: ChunkIndex, options?: { name?: string; onError?: (e: Error) => void }) {
      const mountpoint = await makeTempDir('desync-fuse-mnt-');
      const m = await mountIndex({
        index,
        store: new LocalStore({ path: storeDir }),
        mountpoint,
        name: options?.name ?? 'blob',
        mtime: new Date(1_700_000_000_000),
        onError: options?.onError,
      });
      mounts.push(m);
      return m;
    }

    it('tells blob indexes from archive indexes by their feature flags', () => {
      expect(isArchiveIndex(blobIndex)).toBe(false);
      expect(isArchiveIndex(treeIndex)).toBe(true);
    });

    it('shows a blob index as one read-only file with the blob contents', async () => {
      const m = await mount(blobIndex, { name: 'image' });
      const file = join(m.mountpoint, 'image');
      const ls = await run('ls', ['-A', m.mountpoint]);
      expect(ls.stdout.toString()).toBe('image\n');
      const st = await run('stat', ['-c', '%a %s %Y %F', file]);
      expect(st.stdout.toString().trim()).toBe(`444 ${blob.length} 1700000000 regular file`);
      const cmp = await run('cmp', [file, blobFile]);
      expect(cmp.code, cmp.stderr + cmp.stdout.toString()).toBe(0);
    });

    it('serves reads at any offset, across chunk boundaries, to parallel readers', async () => {
      const m = await mount(blobIndex);
      const file = join(m.mountpoint, 'blob');
      const prng = new Prng(5);
      const ranges: [number, number][] = [];
      // Around every fifth chunk boundary, and random ranges.
      for (let i = 0; i < blobIndex.length - 1; i += 5) {
        const end = blobIndex.end(i);
        ranges.push([end - 1 - prng.below(5000), 2 + prng.below(10_000)]);
      }
      for (let n = 0; n < 10; n++) ranges.push([prng.below(blob.length), 1 + prng.below(300_000)]);
      ranges.push([blob.length - 10, 100], [blob.length, 10]);
      const results = await Promise.all(ranges.map(([offset, length]) => readRange(file, offset, length)));
      results.forEach((r, i) => {
        const [offset, length] = ranges[i] as [number, number];
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.equals(blob.subarray(offset, offset + length)), `${offset}+${length}`).toBe(true);
      });
      const cmps = await Promise.all(Array.from({ length: 4 }, () => run('cmp', [file, blobFile])));
      for (const c of cmps) expect(c.code, c.stderr).toBe(0);
    });

    it('refuses writes with EROFS', async () => {
      const m = await mount(blobIndex);
      const write = await run('sh', ['-c', `echo x > '${join(m.mountpoint, 'blob')}'`]);
      expect(write.code).not.toBe(0);
      expect(write.stderr).toMatch(/Read-only file system/);
      const create = await run('touch', [join(m.mountpoint, 'new')]);
      expect(create.stderr).toMatch(/Read-only file system/);
    });

    it('fails a read of a missing chunk with EIO, reports it, and stays up', async () => {
      // A store of its own, so removing a chunk does not disturb the other tests.
      const copy = join(dir, 'store-copy');
      await run('cp', ['-r', storeDir, copy]);
      const victim = blobIndex.chunk(Math.floor(blobIndex.length / 2));
      await rm(join(copy, victim.id.slice(0, 4), `${victim.id}.cacnk`));
      const errors: Error[] = [];
      const mountpoint = await makeTempDir('desync-fuse-mnt-');
      const m = await mountIndex({
        index: blobIndex,
        store: new LocalStore({ path: copy }),
        mountpoint,
        onError: (e) => errors.push(e),
      });
      mounts.push(m);
      const file = join(mountpoint, 'blob');
      const bad = await readRange(file, victim.start + 10, 100);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/Input\/output error/);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]?.message).toContain(victim.id);
      expect(errors[0]?.message).toContain(copy);
      const good = await readRange(file, 1000, 5000);
      expect(good.code, good.stderr).toBe(0);
      expect(good.stdout.equals(blob.subarray(1000, 6000))).toBe(true);
    });

    it('shows an archive index as the archived tree', async () => {
      const m = await mount(treeIndex);
      const diff = await run('diff', ['-r', '--no-dereference', tree, m.mountpoint]);
      expect(diff.code, diff.stdout.toString() + diff.stderr).toBe(0);
      // Names, modes, types, owners of everything; sizes of all but directories (whose size
      // depends on the filesystem).
      const listing = (root: string) =>
        run('sh', [
          '-c',
          `cd '${root}' && find . | sort | xargs -d '\\n' stat -c '%n %a %F %u %g' && ` +
            `find . ! -type d | sort | xargs -d '\\n' stat -c '%n %s'`,
        ]);
      const expected = await listing(tree);
      const got = await listing(m.mountpoint);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout.toString()).toBe(expected.stdout.toString());
      const link = await run('readlink', [join(m.mountpoint, 'sub', 'dangling')]);
      expect(link.stdout.toString()).toBe('/nowhere/at/all\n');
      const mtime = await run('stat', ['-c', '%Y', join(m.mountpoint, 'a.txt')]);
      expect(mtime.stdout.toString()).toBe('1600000000\n');
      if (withXattr) {
        const a = join(m.mountpoint, 'a.txt');
        const getXattr = `import os; print(os.listxattr('${a}'), os.getxattr('${a}', 'user.comment'))`;
        const x = await run('python3', ['-c', getXattr]);
        expect(x.stdout.toString()).toBe("['user.comment'] b'why not'\n");
      }
      const big = await readRange(join(m.mountpoint, 'sub', 'big.bin'), 1_000_000, 70_000);
      const original = await readFile(join(tree, 'sub', 'big.bin'));
      expect(big.stdout.equals(original.subarray(1_000_000, 1_070_000))).toBe(true);
    });

    it('rejects a mountpoint that does not exist or is not empty', async () => {
      const store = new LocalStore({ path: storeDir });
      await expect(
        mountIndex({ index: blobIndex, store, mountpoint: join(dir, 'nope') }),
      ).rejects.toBeInstanceOf(FileError);
      await expect(mountIndex({ index: blobIndex, store, mountpoint: tree })).rejects.toThrow(/not empty/);
      const empty = await makeTempDir('desync-fuse-mnt-');
      await expect(
        mountIndex({ index: blobIndex, store, mountpoint: empty, name: 'a/b' }),
      ).rejects.toBeInstanceOf(InvalidArgument);
      await rmdir(empty);
    });

    it('notices an unmount by fusermount -u', async () => {
      const m = await mount(blobIndex);
      const r = await run(fusermount as string, ['-u', m.mountpoint]);
      expect(r.code, r.stderr).toBe(0);
      await m.unmounted;
      const mounts = await readFile('/proc/self/mounts', 'utf8');
      expect(mounts).not.toContain(` ${m.mountpoint} `);
      await m.unmount(); // still fine
    });
  });
});
