import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { lstat, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateRange, FS_NODUMP_FL, getInodeFlags, inodeFlagsAvailable, setTimesNs } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('desync-linux-attrs-');
});
afterAll(() => removeTempDir(dir));

describe('getInodeFlags', () => {
  it('the addon is built on Linux with a compiler', () => {
    expect(inodeFlagsAvailable()).toBe(true);
  });

  it('reads chattr +d on files and directories', async () => {
    const file = join(dir, 'f');
    const sub = join(dir, 'd');
    await writeFile(file, 'x');
    await mkdir(sub);
    expect((getInodeFlags(file) ?? 0) & FS_NODUMP_FL).toBe(0);
    execFileSync('chattr', ['+d', file, sub]);
    expect((getInodeFlags(file) ?? 0) & FS_NODUMP_FL).toBe(FS_NODUMP_FL);
    expect((getInodeFlags(Buffer.from(sub)) ?? 0) & FS_NODUMP_FL).toBe(FS_NODUMP_FL);
  });

  it('names the path when it cannot be opened', () => {
    expect(() => getInodeFlags(join(dir, 'missing'))).toThrow(/missing/);
    try {
      getInodeFlags(join(dir, 'missing'));
    } catch (err) {
      expect(err).toMatchObject({ code: 'ENOENT', syscall: 'open', path: join(dir, 'missing') });
    }
  });
});

describe('setTimesNs', () => {
  it('sets nanosecond times on a file and on a symlink itself', async () => {
    const file = join(dir, 't');
    const link = join(dir, 'l');
    await writeFile(file, 'x');
    await symlink('t', link);
    expect(setTimesNs(file, 1_500_000_000_123_456_789n)).toBe(true);
    expect(setTimesNs(link, 1_400_000_000_000_000_001n)).toBe(true);
    expect((await lstat(file, { bigint: true })).mtimeNs).toBe(1_500_000_000_123_456_789n);
    expect((await lstat(link, { bigint: true })).mtimeNs).toBe(1_400_000_000_000_000_001n);
    expect((await lstat(file, { bigint: true })).mtimeNs).toBe(1_500_000_000_123_456_789n);
  });

  it('names the path on failure', () => {
    expect(() => setTimesNs(join(dir, 'nope'), 1n)).toThrow(/nope/);
  });
});

describe('allocateRange', () => {
  it('allocates a range of a sparse file and leaves its size and the rest alone', () => {
    const fd = openSync(join(dir, 'sparse'), 'w+');
    try {
      ftruncateSync(fd, 64 << 20);
      const before = fstatSync(fd).blocks * 512;
      expect(allocateRange(fd, 8 << 20, 4 << 20)).toBe(true);
      const st = fstatSync(fd);
      expect(st.size).toBe(64 << 20);
      // 4 MiB and at most a little file-system metadata; not the other 60 MiB.
      expect(st.blocks * 512 - before).toBeGreaterThanOrEqual(4 << 20);
      expect(st.blocks * 512 - before).toBeLessThan(5 << 20);
      expect(allocateRange(fd, 0, 0)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it('answers false where the file cannot be allocated (a character device)', () => {
    const fd = openSync('/dev/null', 'w');
    try {
      expect(allocateRange(fd, 0, 4096)).toBe(false);
    } finally {
      closeSync(fd);
    }
  });

  it('throws errors shaped like fs errors', () => {
    expect(() => allocateRange(1 << 20, 0, 4096)).toThrow(
      expect.objectContaining({ code: 'EBADF', syscall: 'fallocate' }),
    );
  });
});
