import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Creates a fresh directory under the OS temp dir and returns its real path (on macOS
 * /var is a symlink, and paths compared after a round trip through a tool must match).
 * @param prefix name prefix; default `desync-test-`.
 */
export async function makeTempDir(prefix?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix ?? 'desync-test-'));
  return realpath(dir);
}

/** Removes a directory made by makeTempDir and everything in it; a missing directory is fine. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Runs `fn` with a fresh temp dir and removes the dir afterwards, even when `fn` throws. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix?: string): Promise<T> {
  const dir = await makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await removeTempDir(dir);
  }
}
