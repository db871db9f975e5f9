import { type DecodeCatarOptions, decodeCatar } from './decode-catar.js';
import { formatCatarMode } from './format-catar-mode.js';

/** One line of `desync list`. */
export interface CatarListLine {
  /** The mode as `casync list` prints it, e.g. 'drwxr-xr-x' or 'lrwxrwxrwx'. */
  mode: string;
  /** A regular file's size in bytes; 0 for every other kind. */
  size: number;
  /** The path as `casync list` prints it: '.' for the root, else relative with '/'. */
  path: string;
}

/** Options of listCatar: the same as decodeCatar's. */
export type ListCatarOptions = DecodeCatarOptions;

/**
 * Lists a catar archive in archive order, one line per node, with what `casync list x.catar`
 * prints (`<mode> <path>`, root as '.') plus file sizes. File contents are skipped unread.
 * @throws CatarFormatError and Aborted as decodeCatar does.
 */
export async function* listCatar(
  source: AsyncIterable<Uint8Array>,
  options?: ListCatarOptions,
): AsyncGenerator<CatarListLine> {
  for await (const entry of decodeCatar(source, options)) {
    yield {
      mode: formatCatarMode(entry.mode),
      size: entry.kind === 'file' ? entry.size : 0,
      path: entry.path === '' ? '.' : entry.path,
    };
  }
}
