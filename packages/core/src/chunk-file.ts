import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirsSync } from './make-dirs.js';
import { tempPathFor } from './temp-path.js';

// Directories this thread knows exist. Writing into a missing one fails with ENOENT, and a
// thrown fs error costs about 10 µs (the stack trace V8 captures), several times the
// mkdir that makes sure first: a make into a new store meets a new directory per chunk.
const knownDirs = new Set<string>();
const KNOWN_DIRS_LIMIT = 65536; // a casync store has at most 65,536 chunk directories

/**
 * Writes a chunk file atomically, for code that writes a file store's chunks itself (in a
 * worker thread): a temporary file beside the target (`.<name>.<pid>.<random>.tmp`, which
 * chunk listings skip), then a rename, so a reader never sees a partial chunk and a killed
 * writer leaves only a temporary file. Missing directories are created.
 */
export function writeChunkFileSync(path: string, frame: Uint8Array): void {
  const dir = dirname(path);
  if (!knownDirs.has(dir)) {
    makeDirsSync(dir);
    if (knownDirs.size >= KNOWN_DIRS_LIMIT) knownDirs.clear();
    knownDirs.add(dir);
  }
  const tmp = tempPathFor(path);
  try {
    try {
      writeFileSync(tmp, frame, { flag: 'wx' });
    } catch (err) {
      // Removed since this thread saw it (by hand, or another tool): make it again, once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      makeDirsSync(dir);
      writeFileSync(tmp, frame, { flag: 'wx' });
    }
    renameSync(tmp, path);
  } catch (err) {
    // A write cut short (no space left) leaves its temporary file: remove it.
    try {
      unlinkSync(tmp);
    } catch {}
    throw err;
  }
}
