import { spawnSync } from 'node:child_process';
import { mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, randomBytes, removeTempDir, runCasync, writeMixedFile } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { casyncPeer, desyncOk, expectOneLineError, listFiles, runDesync } from './helpers.js';

// The feature set `desync tar` writes: casync's `--with` list (which replaces its default set).
const WITH = [
  '--with=32bit-uids',
  '--with=nsec-time',
  '--with=permissions',
  '--with=symlinks',
  '--with=device-nodes',
  '--with=fifos',
  '--with=sockets',
  '--with=xattrs',
];

const { casync, missingInCi } = casyncPeer();

describe('tar', () => {
  let dir: string;
  let tree: string;

  beforeAll(async () => {
    dir = await makeTempDir('desync-tar-');
    tree = join(dir, 'tree');
    await mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
    await mkdir(join(tree, 'empty'));
    await writeFile(join(tree, 'a.txt'), 'hello\n');
    await writeFile(join(tree, 'B'), randomBytes(1000, 1), { mode: 0o600 });
    await writeMixedFile(join(tree, 'sub', 'big.bin'), 3 * 1024 * 1024, 2);
    await writeFile(join(tree, 'sub', 'deeper', 'zero'), '');
    await symlink('a.txt', join(tree, 'link'));
    spawnSync('mkfifo', [join(tree, 'fifo')]);
    await utimes(join(tree, 'a.txt'), 1_600_000_000.5, 1_600_000_000.25);
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it.runIf(missingInCi !== undefined)('has casync on PATH when CI=true', () => {
    throw missingInCi;
  });

  describe.runIf(casync !== undefined)('against casync', () => {
    it('writes the archive casync writes, to a file and to stdout', async () => {
      const ours = join(dir, 'ours.catar');
      const theirs = join(dir, 'theirs.catar');
      await desyncOk(['tar', ours, tree]);
      await runCasync(['make', ...WITH, theirs, tree]);
      const expected = await readFile(theirs);
      expect(Buffer.compare(await readFile(ours), expected)).toBe(0);
      const piped = await runDesync(['tar', '-', tree]);
      expect(piped.code).toBe(0);
      expect(Buffer.compare(piped.stdout, expected)).toBe(0);
    });

    it.each(['16:64:256', '4:16:64'])('with -i and -m %s writes casync’s index and store', async (m) => {
      const [min, avg, max] = m.split(':').map((k) => Number(k) * 1024);
      const ours = join(dir, `ours-${min}.caidx`);
      const theirs = join(dir, `theirs-${min}.caidx`);
      const ourStore = join(dir, `store-ours-${min}`);
      const theirStore = join(dir, `store-theirs-${min}`);
      await desyncOk(['tar', '-i', '-s', ourStore, '-m', m, ours, tree]);
      await runCasync([
        'make',
        ...WITH,
        `--chunk-size=${min}:${avg}:${max}`,
        `--store=${theirStore}`,
        theirs,
        tree,
      ]);
      expect(Buffer.compare(await readFile(ours), await readFile(theirs))).toBe(0);
      expect(await listFiles(ourStore)).toEqual(await listFiles(theirStore));
      // casync restores the tree from our index and store.
      const out = join(dir, `extracted-${min}`);
      await runCasync(['extract', `--store=${ourStore}`, ours, out]);
      const diff = spawnSync('diff', ['-r', '--no-dereference', tree, out], { encoding: 'utf8' });
      expect(diff.stdout.replace(/^File .* is a fifo while file .* is a fifo\n/gm, '')).toBe('');
    });
  });

  describe.runIf(casync !== undefined)('untar and list against casync', () => {
    const sameTree = (a: string, b: string) => {
      const diff = spawnSync('diff', ['-r', '--no-dereference', a, b], { encoding: 'utf8' });
      expect(diff.stdout.replace(/^File .* is a fifo while file .* is a fifo\n/gm, '')).toBe('');
    };

    it('restores what casync archived with its default flags, from a file and from stdin', async () => {
      const archive = join(dir, 'casync-default.catar');
      await runCasync(['make', archive, tree]);
      const out = join(dir, 'untar-file');
      await desyncOk(['untar', archive, out]);
      sameTree(tree, out);
      const fromStdin = join(dir, 'untar-stdin');
      await desyncOk(['untar', '-', fromStdin], { input: await readFile(archive) });
      sameTree(tree, fromStdin);
    });

    it('restores a casync .caidx from its store with -i', async () => {
      const index = join(dir, 'casync.caidx');
      const store = join(dir, 'casync-store');
      await runCasync(['make', `--store=${store}`, index, tree]);
      const out = join(dir, 'untar-index');
      await desyncOk(['untar', '-i', '-s', store, index, out]);
      sameTree(tree, out);
    });

    it('lists what casync list lists, with sizes', async () => {
      const archive = join(dir, 'list.catar');
      await runCasync(['make', archive, tree]);
      const theirs = (await runCasync(['list', archive])).stdout.trim().split('\n');
      const ours = (await desyncOk(['list', archive])).stdout.toString().trim().split('\n');
      expect(ours.map((l) => l.replace(/^(\S+) \d+ /, '$1 '))).toEqual(theirs);
      expect(ours).toContain('-rw-r--r-- 6 a.txt');
    });

    it('refuses a directory that is not empty unless --overwrite', async () => {
      const archive = join(dir, 'again.catar');
      await desyncOk(['tar', archive, tree]);
      const out = join(dir, 'not-empty');
      await mkdir(out);
      await writeFile(join(out, 'x'), 'x');
      expectOneLineError(await runDesync(['untar', archive, out]), [out]);
      await desyncOk(['untar', '--overwrite', archive, out]);
    });
  });

  it('fails in one line on a missing directory and leaves no archive', async () => {
    const out = join(dir, 'missing.catar');
    const result = await runDesync(['tar', out, join(dir, 'no-such-dir')]);
    expectOneLineError(result, ['no-such-dir']);
    expect((await listFiles(dir)).filter((f) => f.startsWith('missing'))).toEqual([]);
  });

  it('asks for a store with -i', async () => {
    expectOneLineError(await runDesync(['tar', '-i', join(dir, 'x.caidx'), tree]), ['-s']);
  });
});
