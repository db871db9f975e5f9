import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, open, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readIndex } from '@desync/index-format';
import {
  cliBinPath,
  findFusermount,
  lookUpPeer,
  makeTempDir,
  Prng,
  randomBytes,
  removeTempDir,
  writeMixedFile,
} from '@desync/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chunkPath, desyncOk, expectOneLineError, runDesync } from './helpers.js';

// The mount runs in a child CLI process, so this process may read it with ordinary async fs.

const { path: fusermount, missingInCi } = lookUpPeer('fusermount', findFusermount());

/** A running `desync mount-index`. */
interface Mounted {
  child: ChildProcess;
  mountpoint: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function execStatus(file: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

async function isMounted(mountpoint: string): Promise<boolean> {
  return (await readFile('/proc/mounts', 'utf8')).includes(` ${mountpoint} `);
}

describe('mount-index', () => {
  it.runIf(missingInCi !== undefined)('has fusermount on PATH when CI=true', () => {
    throw missingInCi;
  });

  describe.runIf(fusermount !== undefined)('with FUSE', () => {
    let dir: string;
    let store: string;
    let blob: Buffer;
    const running: Mounted[] = [];

    beforeAll(async () => {
      dir = await makeTempDir('desync-mount-');
      store = join(dir, 'store');
      await writeMixedFile(join(dir, 'image.bin'), 4 * 1024 * 1024 + 777, 21);
      blob = await readFile(join(dir, 'image.bin'));
      await desyncOk(['make', '-s', store, join(dir, 'image.caibx'), join(dir, 'image.bin')]);
    });
    afterEach(async () => {
      for (const m of running.splice(0)) {
        if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
        if (await isMounted(m.mountpoint)) await execStatus(fusermount as string, ['-uz', m.mountpoint]);
        // rmdir, not rm -r: it never walks into a mount left behind.
        await rmdir(m.mountpoint).catch(() => undefined);
      }
    });
    afterAll(async () => {
      if (dir) await removeTempDir(dir);
    });

    /** Starts `desync mount-index ...args INDEX MOUNTPOINT` and waits for its "mounted" line. */
    async function mountCli(index: string, args: string[] = [], storeDir = store): Promise<Mounted> {
      const mountpoint = await makeTempDir('desync-mount-mnt-');
      const child = spawn(
        process.execPath,
        [cliBinPath(), 'mount-index', '-s', storeDir, ...args, index, mountpoint],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, DESYNC_DEBUG: undefined },
        },
      );
      let stderr = '';
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, signal) => resolve({ code, signal })),
      );
      const m: Mounted = { child, mountpoint, stderr: () => stderr, exited };
      running.push(m);
      await new Promise<void>((resolve, reject) => {
        child.stderr?.on('data', (piece: Buffer) => {
          stderr += piece.toString();
          if (stderr.includes('mounted ')) resolve();
        });
        exited.then(() => reject(new Error(`mount-index exited early: ${stderr}`)));
      });
      return m;
    }

    it('mounts a blob index as a file named after it, readable at any offset, until SIGTERM', async () => {
      const index = join(dir, 'image.caibx');
      const m = await mountCli(index);
      expect(m.stderr()).toBe(`mounted ${index} at ${m.mountpoint}\n`);
      const file = join(m.mountpoint, 'image');
      const cmp = await execStatus('cmp', [file, join(dir, 'image.bin')]);
      expect(cmp.code, cmp.out).toBe(0);

      const chunks = await readIndex(index);
      const prng = new Prng(3);
      const ranges: [number, number][] = [];
      for (let i = 0; i < chunks.length - 1; i += 3)
        ranges.push([chunks.end(i) - 100, 200 + prng.below(200_000)]);
      for (let n = 0; n < 20; n++) ranges.push([prng.below(blob.length), 1 + prng.below(100_000)]);
      const handle = await open(file, 'r');
      try {
        await Promise.all(
          ranges.map(async ([offset, length]) => {
            const buffer = Buffer.alloc(length);
            const { bytesRead } = await handle.read(buffer, 0, length, offset);
            const expected = blob.subarray(offset, offset + length);
            expect(bytesRead).toBe(expected.length);
            expect(buffer.subarray(0, bytesRead).equals(expected), `${offset}+${length}`).toBe(true);
          }),
        );
      } finally {
        await handle.close();
      }
      const readers = await Promise.all(
        Array.from({ length: 4 }, () => execStatus('cmp', [file, join(dir, 'image.bin')])),
      );
      for (const r of readers) expect(r.code, r.out).toBe(0);

      m.child.kill('SIGTERM');
      expect(await m.exited).toEqual({ code: 0, signal: null });
      expect(await isMounted(m.mountpoint)).toBe(false);
    });

    it('exits 0 when someone runs fusermount -u', async () => {
      const m = await mountCli(join(dir, 'image.caibx'));
      const r = await execStatus(fusermount as string, ['-u', m.mountpoint]);
      expect(r.code, r.out).toBe(0);
      expect(await m.exited).toEqual({ code: 0, signal: null });
    });

    it('answers EIO for a missing chunk, names it on stderr, and stays up', async () => {
      const copy = join(dir, 'store-copy');
      await execStatus('cp', ['-r', store, copy]);
      const index = await readIndex(join(dir, 'image.caibx'));
      const victim = index.chunk(Math.floor(index.length / 2));
      await rm(chunkPath(copy, victim.id));
      const m = await mountCli(join(dir, 'image.caibx'), [], copy);
      const handle = await open(join(m.mountpoint, 'image'), 'r');
      try {
        await expect(handle.read(Buffer.alloc(100), 0, 100, victim.start + 5)).rejects.toMatchObject({
          code: 'EIO',
        });
        const buffer = Buffer.alloc(1000);
        await handle.read(buffer, 0, 1000, 0);
        expect(buffer.equals(blob.subarray(0, 1000))).toBe(true);
      } finally {
        await handle.close();
      }
      expect(m.stderr()).toContain(victim.id);
      expect(m.stderr()).toContain(copy);
      m.child.kill('SIGINT');
      expect(await m.exited).toEqual({ code: 0, signal: null });
    });

    it('mounts an archive index as the archived tree', async () => {
      const tree = join(dir, 'tree');
      await mkdir(join(tree, 'sub'), { recursive: true });
      await writeFile(join(tree, 'a.txt'), 'hello\n');
      await writeFile(join(tree, 'sub', 'data'), randomBytes(300_000, 9), { mode: 0o640 });
      await symlink('../a.txt', join(tree, 'sub', 'link'));
      await desyncOk(['tar', '-i', '-s', store, join(dir, 'tree.caidx'), tree]);
      const m = await mountCli(join(dir, 'tree.caidx'));
      const diff = await execStatus('diff', ['-r', '--no-dereference', tree, m.mountpoint]);
      expect(diff.code, diff.out).toBe(0);
      const modes = await execStatus('stat', ['-c', '%a %F', join(m.mountpoint, 'sub', 'data')]);
      expect(modes.out).toBe('640 regular file\n');
      m.child.kill('SIGTERM');
      expect(await m.exited).toEqual({ code: 0, signal: null });
    });

    it('fails with one line when the mountpoint does not exist or is not empty', async () => {
      const index = join(dir, 'image.caibx');
      const missing = await runDesync(['mount-index', '-s', store, index, join(dir, 'no-such-dir')]);
      expectOneLineError(missing, ['no-such-dir', 'does not exist']);
      const full = await runDesync(['mount-index', '-s', store, index, dir]);
      expectOneLineError(full, [dir, 'not empty']);
    });
  });
});
