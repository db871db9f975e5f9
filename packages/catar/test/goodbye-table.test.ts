import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findCasync, makeTempDir, removeTempDir, requirePeer } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutGoodbyeTable } from '../src/index.js';

// For n = 1..20 sorted items, the rank of the item casync puts at each goodbye table slot.
// Measured from `casync make --without=all` archives of directories holding n empty files
// (Debian casync 2+20201210); the casync test below measures them again.
const CASYNC_ORDER: number[][] = [
  [0],
  [1, 0],
  [1, 0, 2],
  [2, 1, 3, 0],
  [3, 1, 4, 0, 2],
  [3, 1, 5, 0, 2, 4],
  [3, 1, 5, 0, 2, 4, 6],
  [4, 2, 6, 1, 3, 5, 7, 0],
  [5, 3, 7, 1, 4, 6, 8, 0, 2],
  [6, 3, 8, 1, 5, 7, 9, 0, 2, 4],
  [7, 3, 9, 1, 5, 8, 10, 0, 2, 4, 6],
  [7, 3, 10, 1, 5, 9, 11, 0, 2, 4, 6, 8],
  [7, 3, 11, 1, 5, 9, 12, 0, 2, 4, 6, 8, 10],
  [7, 3, 11, 1, 5, 9, 13, 0, 2, 4, 6, 8, 10, 12],
  [7, 3, 11, 1, 5, 9, 13, 0, 2, 4, 6, 8, 10, 12, 14],
  [8, 4, 12, 2, 6, 10, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0],
  [9, 5, 13, 3, 7, 11, 15, 1, 4, 6, 8, 10, 12, 14, 16, 0, 2],
  [10, 6, 14, 3, 8, 12, 16, 1, 5, 7, 9, 11, 13, 15, 17, 0, 2, 4],
  [11, 7, 15, 3, 9, 13, 17, 1, 5, 8, 10, 12, 14, 16, 18, 0, 2, 4, 6],
  [12, 7, 16, 3, 10, 14, 18, 1, 5, 9, 11, 13, 15, 17, 19, 0, 2, 4, 6, 8],
];

const ranks = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('layoutGoodbyeTable', () => {
  it('returns an empty table for no items', () => {
    expect(layoutGoodbyeTable([])).toEqual([]);
  });

  it.each(CASYNC_ORDER.map((order) => [order.length, order]))(
    'lays out %i items in casync’s order',
    (n, order) => {
      expect(layoutGoodbyeTable(ranks(n as number))).toEqual(order);
    },
  );

  it('keeps the search-tree property for every size up to 300', () => {
    for (let n = 1; n <= 300; n++) {
      const t = layoutGoodbyeTable(ranks(n));
      expect([...t].sort((a, b) => a - b)).toEqual(ranks(n));
      // In-order traversal of the array-form tree yields the sorted input.
      const inorder: number[] = [];
      const walk = (i: number): void => {
        if (i >= n) return;
        walk(2 * i + 1);
        inorder.push(t[i]);
        walk(2 * i + 2);
      };
      walk(0);
      expect(inorder).toEqual(ranks(n));
    }
  });
});

const casync = requirePeer('casync', findCasync());

describe.skipIf(!casync)('goodbye table order against casync', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('desync-catar-bst-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('matches the order casync writes for 1..20 entries', async () => {
    for (let n = 1; n <= 20; n++) {
      const tree = join(dir, `t${n}`);
      await mkdir(tree);
      for (let i = 0; i < n; i++) await writeFile(join(tree, `f${i}`), '');
      const out = join(dir, `t${n}.catar`);
      await promisify(execFile)(casync!, ['make', '--without=all', out, tree]);
      const b = await readFile(out);
      // The archive ends with the root's goodbye; its tail's middle word is the goodbye size.
      const start = b.length - Number(b.readBigUInt64LE(b.length - 16));
      const hashes = ranks(n).map((i) => b.readBigUInt64LE(start + 16 + 24 * i + 16));
      const sorted = [...hashes].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      expect(hashes.map((h) => sorted.indexOf(h))).toEqual(CASYNC_ORDER[n - 1]);
    }
  });
});
