/**
 * Permutes `sorted` (ascending) into the array form of a binary search tree, exactly as
 * casync's `ca_make_bst` (src/camakebst.c) does: the item at i has the smaller subtree at
 * 2i+1 and the larger at 2i+2, and the tree is filled so that only its last level is partial,
 * left-leaning. casync lays out every goodbye table this way, sorted by name hash.
 * @returns a new array holding the same items in tree order.
 */
export function layoutGoodbyeTable<T>(sorted: readonly T[]): T[] {
  const out = new Array<T>(sorted.length);
  if (sorted.length === 0) return out;
  place(sorted, 0, sorted.length, log2(sorted.length) + 1, out, 0);
  return out;
}

function log2(n: number): number {
  return 31 - Math.clz32(n);
}

// camakebst.c make_bst_inner: a subtree of height e over input[start, start+n) rooted at out[i].
function place<T>(input: readonly T[], start: number, n: number, e: number, out: T[], i: number): void {
  if (n === 0) return;
  const p = 2 ** (e - 1);
  const q = 2 ** e;
  const half = Math.floor(p / 2); // C size_t division: 0 when p is 1
  // The root index k leaves a full left subtree when the last level is at least half full;
  // otherwise the missing leaves are taken from the left subtree.
  const k = n >= p - 1 + half ? (q - 2) / 2 : (q - 2) / 2 - (p - 1 + half - n);
  out[i] = input[start + k];
  place(input, start, k, e - 1, out, 2 * i + 1);
  place(input, start + k + 1, n - k - 1, e - 1, out, 2 * i + 2);
}
