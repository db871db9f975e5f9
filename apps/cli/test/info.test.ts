import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkPath, desyncOk, expectOneLineError, parseCaibx, runDesync } from './helpers.js';

// casync caformat.h: CA_FORMAT_INDEX, CA_FORMAT_TABLE, CA_FORMAT_TABLE_TAIL_MARKER,
// CA_FORMAT_SHA512_256 | CA_FORMAT_EXCLUDE_NODUMP.
const CA_FORMAT_INDEX = 0x96824d9c7b129ff9n;
const CA_FORMAT_TABLE = 0xe75b9e112f17417dn;
const TAIL_MARKER = 0x4b4f050e5549ecd1n;
const FLAGS = 0x2000000000000000n | 0x8000000000000000n;

/** Writes a .caibx by hand: (size, id) per chunk, header min:avg:max. */
function encodeCaibx(chunks: [number, string][], sizes: [number, number, number]): Buffer {
  const b = Buffer.alloc(48 + 16 + chunks.length * 40 + 40);
  b.writeBigUInt64LE(48n, 0);
  b.writeBigUInt64LE(CA_FORMAT_INDEX, 8);
  b.writeBigUInt64LE(FLAGS, 16);
  sizes.forEach((s, i) => {
    b.writeBigUInt64LE(BigInt(s), 24 + i * 8);
  });
  b.writeBigUInt64LE(0xffffffffffffffffn, 48);
  b.writeBigUInt64LE(CA_FORMAT_TABLE, 56);
  let end = 0;
  chunks.forEach(([size, id], i) => {
    end += size;
    b.writeBigUInt64LE(BigInt(end), 64 + i * 40);
    Buffer.from(id, 'hex').copy(b, 64 + i * 40 + 8);
  });
  const tail = 64 + chunks.length * 40;
  b.writeBigUInt64LE(48n, tail + 16);
  b.writeBigUInt64LE(BigInt(16 + chunks.length * 40 + 40), tail + 24);
  b.writeBigUInt64LE(TAIL_MARKER, tail + 32);
  return b;
}

describe('info', () => {
  let dir: string;
  let crafted: string;

  beforeAll(async () => {
    dir = await makeTempDir('desync-info-');
    crafted = join(dir, 'crafted.caibx');
    const [a, b, c] = ['aa', 'bb', 'cc'].map((x) => x.repeat(32));
    // A(1000) B(2000) A(1000) C(4000) A(1000) B(2000): 6 chunks, 3 unique (7000 bytes) of 11000.
    await writeFile(
      crafted,
      encodeCaibx(
        [
          [1000, a],
          [2000, b],
          [1000, a],
          [4000, c],
          [1000, a],
          [2000, b],
        ],
        [512, 2048, 8192],
      ),
    );
  });
  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  it('prints aligned lines counted from the chunk table and header', async () => {
    const { stdout } = await desyncOk(['info', crafted]);
    expect(stdout.toString()).toBe(
      [
        'Blob size:         11000 bytes',
        'Chunks:            6',
        'Unique chunks:     3',
        'Unique size:       7000 bytes',
        'Dedup ratio:       0.6364',
        'Chunk sizes seen:  min 1000, avg 1833, max 4000 bytes',
        'Chunk size params: 512:2048:8192 bytes',
        'Feature flags:     0xa000000000000000 SHA512_256 EXCLUDE_NODUMP',
        '',
      ].join('\n'),
    );
  });

  it('prints one JSON object with --json, in desync info key names', async () => {
    const { stdout } = await desyncOk(['info', '--json', crafted]);
    expect(stdout.toString().trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stdout.toString())).toEqual({
      total: 6,
      unique: 3,
      size: 11000,
      'unique-size': 7000,
      'dedup-ratio': 7000 / 11000,
      'chunk-size-min': 512,
      'chunk-size-avg': 2048,
      'chunk-size-max': 8192,
      'seen-chunk-size-min': 1000,
      'seen-chunk-size-avg': 1833,
      'seen-chunk-size-max': 4000,
      'feature-flags': '0xa000000000000000',
      features: ['SHA512_256', 'EXCLUDE_NODUMP'],
    });
  });

  it('counts the unique chunks and bytes missing from the stores given with -s', async () => {
    // Repeated content, so chunks repeat: X X Y X.
    const x = randomBytes(300 * 1024, 81);
    const y = randomBytes(200 * 1024, 82);
    const file = join(dir, 'repeats');
    const index = join(dir, 'repeats.caibx');
    const store = join(dir, 'store');
    await writeFile(file, Buffer.concat([x, x, y, x]));
    await desyncOk(['make', '-s', store, index, file]);
    const parsed = await parseCaibx(index);
    const sizeOf = new Map(parsed.chunks.map((c) => [c.id, c.size]));
    expect(sizeOf.size).toBeLessThan(parsed.chunks.length);
    const gone = [...sizeOf.keys()].slice(1, 3);
    for (const id of gone) await unlink(chunkPath(store, id));

    const { stdout } = await desyncOk(['info', '--json', '-s', store, '-n', '3', index]);
    const json = JSON.parse(stdout.toString());
    expect(json.total).toBe(parsed.chunks.length);
    expect(json.unique).toBe(sizeOf.size);
    expect(json.size).toBe(3 * x.length + y.length);
    expect(json['unique-size']).toBe([...sizeOf.values()].reduce((a, b) => a + b, 0));
    expect(json.missing).toBe(2);
    expect(json['missing-size']).toBe(sizeOf.get(gone[0])! + sizeOf.get(gone[1])!);
    expect(json['in-store']).toBe(sizeOf.size - 2);

    const plain = (await desyncOk(['info', '-s', store, index])).stdout.toString();
    expect(plain).toContain(`Missing chunks:    2 (${json['missing-size']} bytes)`);
  });

  it('fails in one line on a file that is not an index', async () => {
    const bad = join(dir, 'bad.caibx');
    await writeFile(bad, 'nope');
    const result = await runDesync(['info', bad]);
    expect(result.code).toBe(EXIT_CODES.INDEX_FORMAT);
    expectOneLineError(result, [bad]);
  });
});
