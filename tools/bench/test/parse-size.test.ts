import { describe, expect, it } from 'vitest';
import { BenchError } from '../src/bench-error.js';
import { formatSize, parseSize } from '../src/parse-size.js';

describe('parseSize', () => {
  it('reads plain byte counts and binary K/M/G suffixes in any case', () => {
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('64K')).toBe(64 * 1024);
    expect(parseSize('512M')).toBe(512 * 1024 * 1024);
    expect(parseSize('2g')).toBe(2 * 1024 ** 3);
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('8MiB')).toBe(8 * 1024 * 1024);
    expect(parseSize('8 MB')).toBe(8 * 1024 * 1024);
  });

  it('rejects other text and fractional bytes with a USAGE error', () => {
    for (const text of ['', 'M', '12X', '-5M', '1.5', '0.1K', '5 M M']) {
      expect(() => parseSize(text)).toThrow(BenchError);
    }
    try {
      parseSize('nope');
    } catch (error) {
      expect((error as BenchError).code).toBe('USAGE');
    }
  });
});

describe('formatSize', () => {
  it('picks the largest binary unit and trims trailing zeros', () => {
    expect(formatSize(512 * 1024 * 1024)).toBe('512 MiB');
    expect(formatSize(1.5 * 1024 ** 3)).toBe('1.5 GiB');
    expect(formatSize(1000)).toBe('1000 B');
    expect(formatSize(64 * 1024)).toBe('64 KiB');
  });
});
