import { execFileSync, spawnSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desyncOk, expectOneLineError, listFiles, runDesync } from './helpers.js';

function gnuTar(args: readonly string[]): Buffer {
  return execFileSync('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

// Every node's type+mode, mtime in ns and symlink target, to compare what diff -r does not.
async function metadata(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? root : join(root, rel);
    const st = await lstat(abs, { bigint: true });
    out.push(`${rel || '.'} ${st.mode.toString(8)} ${st.mtimeNs}`);
    if (st.isDirectory())
      for (const name of (await readdir(abs)).sort()) await walk(rel ? `${rel}/${name}` : name);
  };
  await walk('');
  return out;
}

describe('tar --input-format=tar and untar --output-format=tar', () => {
  let dir: string;
  let tree: string;
  let tarPath: string;

  beforeAll(async () => {
    dir = await makeTempDir('desync-tar-format-');
    tree = join(dir, 'tree');
    await mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(tree, 'a.txt'), 'hello\n');
    await writeFile(join(tree, 'B'), randomBytes(300_000, 1), { mode: 0o600 });
    await writeFile(join(tree, 'sub', 'ünï-名前.txt'), 'unicode\n');
    await writeFile(join(tree, 'sub', `${'long-'.repeat(30)}name`), 'long\n');
    await writeFile(join(tree, 'sub', 'deeper', 'zero'), '');
    await symlink('../a.txt', join(tree, 'sub', 'link'));
    spawnSync('mkfifo', [join(tree, 'fifo')]);
    for (const [i, p] of ['a.txt', 'B', 'sub/deeper/zero', 'sub/deeper', 'sub', '.'].entries()) {
      execFileSync('touch', ['-h', '-d', `@${1_600_000_000 + i}.${123456789 + i}`, join(tree, p)]);
    }
    tarPath = join(dir, 'tree.tar');
    gnuTar(['--format=posix', '-C', tree, '-cf', tarPath, '.']);
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('converts a GNU tar into the catar of its tree, and back into a tar GNU tar extracts', async () => {
    const fromTar = join(dir, 'from-tar.catar');
    const fromDisk = join(dir, 'from-disk.catar');
    await desyncOk(['tar', '--input-format=tar', fromTar, tarPath]);
    await desyncOk(['tar', fromDisk, tree]);
    expect(Buffer.compare(await readFile(fromTar), await readFile(fromDisk))).toBe(0);

    const back = join(dir, 'back.tar');
    await desyncOk(['untar', '--output-format=tar', fromTar, back]);
    const out = join(dir, 'out');
    await mkdir(out);
    gnuTar(['-C', out, '-xpf', back]);
    const diff = spawnSync('diff', ['-r', '--no-dereference', tree, out], { encoding: 'utf8' });
    expect(diff.stdout.replace(/^File .* is a fifo while file .* is a fifo\n/gm, '')).toBe('');
    expect(await metadata(out)).toEqual(await metadata(tree));
  });

  it('reads the tar from stdin and writes the catar and the tar to stdout with -', async () => {
    const expected = await readFile(join(dir, 'from-disk.catar')).catch(async () => {
      await desyncOk(['tar', join(dir, 'from-disk.catar'), tree]);
      return readFile(join(dir, 'from-disk.catar'));
    });
    const piped = await desyncOk(['tar', '--input-format=tar', '-', '-'], { input: await readFile(tarPath) });
    expect(Buffer.compare(piped.stdout, expected)).toBe(0);
    const tar = await desyncOk(['untar', '--output-format=tar', '-', '-'], { input: expected });
    const again = await desyncOk(['tar', '--input-format=tar', '-', '-'], { input: tar.stdout });
    expect(Buffer.compare(again.stdout, expected)).toBe(0);
  });

  it('with -i -s chunks the converted tar into the index the tree gives, and untars it from there', async () => {
    const store = join(dir, 'store');
    const diskStore = join(dir, 'disk-store');
    await desyncOk(['tar', '--input-format=tar', '-i', '-s', store, join(dir, 'tar.caidx'), tarPath]);
    await desyncOk(['tar', '-i', '-s', diskStore, join(dir, 'disk.caidx'), tree]);
    expect(
      Buffer.compare(await readFile(join(dir, 'tar.caidx')), await readFile(join(dir, 'disk.caidx'))),
    ).toBe(0);
    expect(await listFiles(store)).toEqual(await listFiles(diskStore));
    const tar = await desyncOk([
      'untar',
      '--output-format=tar',
      '-i',
      '-s',
      store,
      join(dir, 'tar.caidx'),
      '-',
    ]);
    const listed = execFileSync('tar', ['-tf', '-'], { input: tar.stdout }).toString().trim().split('\n');
    expect(listed).toContain('sub/ünï-名前.txt');
    expect(listed).toContain(`sub/${'long-'.repeat(30)}name`);
  });

  it('refuses an unsafe name with one line naming the entry, leaving no output', async () => {
    const bad = join(dir, 'bad.tar');
    gnuTar(['-C', tree, '-cf', bad, '--transform=s,^a.txt,../escape,', 'a.txt']);
    const r = await runDesync(['tar', '--input-format=tar', join(dir, 'bad.catar'), bad]);
    expectOneLineError(r, ['"../escape"', '".."']);
    expect((await readdir(dir)).filter((n) => n.includes('bad.catar'))).toEqual([]);
  });

  it('refuses unknown formats and disk-only flags with tar output', async () => {
    expectOneLineError(await runDesync(['tar', '--input-format=zip', 'x.catar', tarPath]), [
      '--input-format',
    ]);
    expectOneLineError(
      await runDesync(['untar', '--output-format=tar', '--overwrite', join(dir, 'from-disk.catar'), '-']),
      ['--overwrite'],
    );
  });
});
