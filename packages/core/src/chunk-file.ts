import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { tempPathFor } from './temp-path.js';

/**
 * Writes a chunk file atomically, for code that writes a file store's chunks itself (in a
 * worker thread): a temporary file beside the target (`.<name>.<pid>.<random>.tmp`, which
 * chunk listings skip), then a rename, so a reader never sees a partial chunk and a killed
 * writer leaves only a temporary file. Missing directories are created.
 */
export function writeChunkFileSync(path: string, frame: Uint8Array): void {
  const dir = dirname(path);
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, frame, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, frame, { flag: 'wx' });
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw err;
  }
}
