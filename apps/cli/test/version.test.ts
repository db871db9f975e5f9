import { loadChunkHasher, loadCodec } from '@desync/core';
import { describe, expect, it } from 'vitest';
import { desyncOk } from './helpers.js';

describe('desync --version', () => {
  // The bundle loads @desync/sha512-mb and the zstd addons its own way (scripts/bundle.mjs):
  // it must end up with what the packages themselves pick in the same runtime.
  it('names the zstd codec and the SHA512/256 hasher the packages pick in this runtime', async () => {
    const { stdout } = await desyncOk(['--version']);
    const line = stdout.toString().trim();
    expect(line).toMatch(/^desync\/\S+ \S+ node-v\S+ zstd\/\S+ sha512-256\/\S+$/);
    expect(line).toContain(` node-${process.version} `);
    expect(line).toContain(` zstd/${(await loadCodec()).name} `);
    expect(line.endsWith(` sha512-256/${(await loadChunkHasher()).name}`)).toBe(true);
  });
});
