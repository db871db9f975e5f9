import { open, rename, rm } from 'node:fs/promises';
import { describeSystemError, FileError, tempPathFor } from '@desync/core';
import { type EncodeCatarOptions, encodeCatar } from './encode-catar.js';

/**
 * Writes the catar archive of `rootDir` to `outPath` atomically: the bytes go to a temporary
 * file beside `outPath`, renamed over it only once the whole archive is written, so a failed
 * or aborted run leaves no partial archive. Do not put `outPath` inside `rootDir`.
 * @throws what encodeCatar throws; FileError naming `outPath` when it cannot be written.
 */
export async function writeCatar(
  rootDir: string,
  outPath: string,
  options: EncodeCatarOptions,
): Promise<void> {
  const tmp = tempPathFor(outPath);
  const writeFailed = (err: unknown) => new FileError(outPath, describeSystemError(err), { cause: err });
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(tmp, 'wx');
  } catch (err) {
    throw writeFailed(err);
  }
  let done = false;
  try {
    for await (const bytes of encodeCatar(rootDir, options)) {
      try {
        await handle.write(bytes);
      } catch (err) {
        throw writeFailed(err);
      }
    }
    try {
      await handle.close();
      await rename(tmp, outPath);
    } catch (err) {
      throw writeFailed(err);
    }
    done = true;
  } finally {
    if (!done) {
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
    }
  }
}
