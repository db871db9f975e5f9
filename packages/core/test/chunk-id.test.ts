import { describe, expect, it } from 'vitest';
import { chunkIdFromBytes, chunkIdToBytes, digestChunk, isChunkId, parseChunkId } from '../src/chunk-id.js';
import { InvalidArgument } from '../src/errors.js';

// SHA-512/256 test vectors (FIPS 180-4 examples, as published by NIST).
const EMPTY_ID = 'c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a';
const ABC_ID = '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23';

describe('digestChunk', () => {
  it('is SHA-512/256, the hash casync names chunks by', () => {
    expect(digestChunk(new Uint8Array(0))).toBe(EMPTY_ID);
    expect(digestChunk(new TextEncoder().encode('abc'))).toBe(ABC_ID);
  });

  it('hashes only the bytes a view covers', () => {
    const buf = new TextEncoder().encode('xxabcxx');
    expect(digestChunk(buf.subarray(2, 5))).toBe(ABC_ID);
  });
});

describe('isChunkId', () => {
  it('accepts 64 lowercase hex characters', () => {
    expect(isChunkId(ABC_ID)).toBe(true);
  });

  it.each([
    ['uppercase hex', ABC_ID.toUpperCase()],
    ['63 characters', ABC_ID.slice(1)],
    ['65 characters', `${ABC_ID}0`],
    ['a non-hex character', `g${ABC_ID.slice(1)}`],
    ['a trailing newline', `${ABC_ID.slice(1)}\n`],
    ['an empty string', ''],
  ])('rejects %s', (_label, s) => {
    expect(isChunkId(s)).toBe(false);
  });
});

describe('parseChunkId', () => {
  it('lowercases ids given in uppercase', () => {
    expect(parseChunkId(ABC_ID.toUpperCase())).toBe(ABC_ID);
  });

  it('throws InvalidArgument for a malformed id, quoting it', () => {
    expect(() => parseChunkId('abc')).toThrow(InvalidArgument);
    expect(() => parseChunkId('abc')).toThrow(/'abc'/);
  });
});

describe('chunk id bytes', () => {
  it('round-trips through the 32 raw bytes of an index entry', () => {
    const bytes = chunkIdToBytes(ABC_ID as ReturnType<typeof parseChunkId>);
    expect(bytes.length).toBe(32);
    expect(chunkIdFromBytes(bytes)).toBe(ABC_ID);
  });

  it('reads an id from a view into a larger buffer (an index table)', () => {
    const table = new Uint8Array(8 + 32 + 8);
    table.set(chunkIdToBytes(parseChunkId(ABC_ID)), 8);
    expect(chunkIdFromBytes(table.subarray(8, 40))).toBe(ABC_ID);
  });

  it('throws InvalidArgument unless given exactly 32 bytes', () => {
    expect(() => chunkIdFromBytes(new Uint8Array(31))).toThrow(InvalidArgument);
    expect(() => chunkIdFromBytes(new Uint8Array(33))).toThrow(InvalidArgument);
  });
});
