import { writeOutput } from '@desync/core';
import { type EncodeCatarOptions, encodeCatar } from './encode-catar.js';

/**
 * Writes the catar archive of `rootDir` to `outPath` atomically: the bytes go to a temporary
 * file beside `outPath`, renamed over it only once the whole archive is written, so a failed
 * or aborted run leaves no partial archive (a device or FIFO is written directly). Do not put
 * `outPath` inside `rootDir`.
 * @throws what encodeCatar throws; FileError naming `outPath` when it cannot be written.
 */
export async function writeCatar(
  rootDir: string,
  outPath: string,
  options: EncodeCatarOptions,
): Promise<void> {
  await writeOutput(outPath, encodeCatar(rootDir, options));
}
