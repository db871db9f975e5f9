import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeChunkFileSync } from '../src/index.js';

describe('writeChunkFileSync', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chunk-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates missing directories and leaves only the final name', () => {
    const path = join(dir, 'ab', 'cd', 'abcd.cacnk');
    writeChunkFileSync(path, Buffer.from('one'));
    expect(readFileSync(path, 'utf8')).toBe('one');
    expect(readdirSync(join(dir, 'ab', 'cd'))).toEqual(['abcd.cacnk']);
  });

  it('writes again into a directory removed after it was first seen', () => {
    const first = join(dir, 'abcd', 'abcd01.cacnk');
    writeChunkFileSync(first, Buffer.from('one'));
    rmSync(join(dir, 'abcd'), { recursive: true });
    const second = join(dir, 'abcd', 'abcd02.cacnk');
    writeChunkFileSync(second, Buffer.from('two'));
    expect(readFileSync(second, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'abcd'))).toEqual(['abcd02.cacnk']);
  });

  it('replaces an existing chunk file whole', () => {
    const path = join(dir, 'abcd', 'abcd.cacnk');
    writeChunkFileSync(path, Buffer.from('old bytes'));
    writeChunkFileSync(path, Buffer.from('new'));
    expect(readFileSync(path, 'utf8')).toBe('new');
  });

  it('fails with the error of a directory that cannot be made', () => {
    writeFileSync(join(dir, 'file'), 'not a directory');
    expect(() => writeChunkFileSync(join(dir, 'file', 'abcd.cacnk'), Buffer.from('x'))).toThrow(
      /ENOTDIR|EEXIST/,
    );
    expect(readdirSync(dir)).toEqual(['file']);
  });
});
