import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';

// `/name.caibx` or `/dir/name.caidx`: plain names only (letters, digits, `.`, `_`, `-`, no
// leading dot), so no `..`, no hidden files, no percent-decoding tricks reach the disk.
const INDEX_PATH = /^\/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\.ca(?:ibx|idx)$/;

/** True when `pathname` names an index file (`.caibx`/`.caidx`) in the served form. */
export function isIndexPath(pathname: string): boolean {
  return INDEX_PATH.test(pathname) && !pathname.includes('/../') && !pathname.includes('/./');
}

/**
 * The index file at `pathname` under `dir`, as a streamed response body with its size, or
 * undefined when there is none (missing, not a regular file, or a symlink that leads out
 * of `dir`).
 */
export async function openIndexFile(
  dir: string,
  pathname: string,
): Promise<{ size: number; body: () => ReadableStream<Uint8Array> } | undefined> {
  const root = await realpath(dir);
  let file: string;
  try {
    file = await realpath(join(root, ...pathname.slice(1).split('/')));
  } catch {
    return undefined;
  }
  if (!file.startsWith(root + sep)) return undefined;
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  return {
    size: st.size,
    body: () => Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
  };
}
