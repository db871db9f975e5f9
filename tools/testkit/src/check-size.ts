/** Rejects sizes a generator cannot honour exactly, before any byte is written. */
export function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`size must be a non-negative safe integer, got ${size}`);
  }
}
