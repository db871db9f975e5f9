import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirs, makeDirsSync } from '../src/make-dirs.js';

describe.each([
  ['makeDirs', (dir: string, mode?: number) => makeDirs(dir, mode)],
  ['makeDirsSync', async (dir: string, mode?: number) => makeDirsSync(dir, mode)],
])('%s', (_name, make) => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'desync-make-dirs-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a directory and its missing parents, with the mode asked', async () => {
    const dir = join(root, 'a', 'b', 'c');
    await make(dir, 0o700);
    expect((await stat(dir)).isDirectory()).toBe(true);
    expect((await stat(join(root, 'a'))).mode & 0o777).toBe(0o700);
  });

  it('does nothing for a directory that exists, and refuses a file in the way', async () => {
    await make(root);
    await writeFile(join(root, 'file'), 'x');
    await expect(make(join(root, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(make(join(root, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it.runIf(existsSync('/proc/self'))(
    "fails where mkdir answers ENOENT under an existing directory (Node's recursive mkdir loops there)",
    async () => {
      await expect(make('/proc/desync-no-such-dir/abcd')).rejects.toMatchObject({ code: 'ENOENT' });
    },
  );
});
