import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { describeSystemError, FileError } from './errors.js';

/**
 * What an output path names, which decides how it is written:
 * - `new`, `file`: through a temporary file beside `path`, renamed over it when complete;
 * - `block-device`, `character-device`, `fifo`: directly (a rename would replace the device
 *   node or FIFO by a regular file, and the bytes would never reach the device);
 * - `socket`: only as this process's standard output (`/dev/stdout` of a program another
 *   started with socket pairs, as Node does), which cannot be opened by name: written
 *   through `process.stdout`.
 *
 * `path` is where the file really is: a symbolic link is written through, as a shell's `>`
 * does (renaming over the link would replace it: `/dev/stdout` redirected to a file would
 * become a file in /dev).
 */
export type OutputTarget =
  | { kind: 'new'; path: string }
  | { kind: 'file' | 'block-device' | 'character-device' | 'fifo' | 'socket'; path: string; stats: Stats };

/** Names of this process's standard output. */
const STDOUT_NAMES = new Set(['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1', `/proc/${process.pid}/fd/1`]);

/**
 * Looks at `path` (following symbolic links) before anything is written to it.
 * @throws FileError naming `path` when it is a directory or a socket other than standard
 *   output, or cannot be looked at.
 */
export async function outputTarget(path: string): Promise<OutputTarget> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'new', path };
    throw new FileError(path, describeSystemError(err), { cause: err });
  }
  if (stats.isFile()) {
    // A descriptor's link (/dev/stdout, /proc/self/fd/N) to a deleted file names no path.
    const real = await realpath(path).catch(() => '');
    if (!isAbsolute(real) || real.endsWith(' (deleted)')) {
      throw new FileError(path, 'names no file that can be replaced (a deleted file?); give a path to write');
    }
    return { kind: 'file', path: real, stats };
  }
  if (stats.isBlockDevice()) return { kind: 'block-device', path, stats };
  if (stats.isCharacterDevice()) return { kind: 'character-device', path, stats };
  if (stats.isFIFO()) return { kind: 'fifo', path, stats };
  if (stats.isSocket()) {
    if (STDOUT_NAMES.has(resolve(path))) return { kind: 'socket', path, stats };
    throw new FileError(path, 'is a socket; nothing can be written there');
  }
  throw new FileError(path, 'is a directory; give the path of a file to write');
}

/** True when `target` is written in place rather than through a temporary file and a rename. */
export function writesInPlace(target: OutputTarget): boolean {
  return target.kind !== 'new' && target.kind !== 'file';
}
