import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgument, storeSchemeFor } from '@desync/core';

/** Writes to stdout, waiting when the pipe is full so memory stays bounded. */
async function write(data: string | Uint8Array): Promise<void> {
  if (!process.stdout.write(data)) await once(process.stdout, 'drain');
}

/** Writes one line per item to stdout, buffered. */
export async function writeLines(lines: Iterable<string> | AsyncIterable<string>): Promise<void> {
  let buf = '';
  for await (const line of lines) {
    buf += `${line}\n`;
    if (buf.length > 64 * 1024) {
      await write(buf);
      buf = '';
    }
  }
  if (buf) await write(buf);
}

/** Copies bytes to stdout. */
export async function writeChunks(chunks: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const c of chunks) await write(c);
}

/**
 * Refuses an index output that names a remote location (`ssh://…`, casync's `host:/path`,
 * `http(s)://…`, `s3+…`): casync would push there; a local file of that name would surprise.
 * Called before any store is opened.
 */
export function refuseRemoteIndexOutput(target: string): void {
  const scheme = storeSchemeFor(target);
  if (scheme && scheme.name !== 'local') {
    throw new InvalidArgument(
      `cannot write an index to ${scheme.name} location '${target}': indexes are written to a local file or - (stdout); write a file and copy it there (a local name with a colon starts with ./)`,
    );
  }
}

/**
 * Runs `write` with a real file path for an index, then, when the caller asked for `-`,
 * copies that file to stdout: indexes are written atomically (temp file, rename), which
 * needs a path, so `-` goes through a private temporary directory that is removed after.
 */
export async function withIndexOutput<T>(target: string, write: (path: string) => Promise<T>): Promise<T> {
  refuseRemoteIndexOutput(target);
  if (target !== '-') return write(target);
  const dir = await mkdtemp(join(tmpdir(), 'desync-index-'));
  try {
    const path = join(dir, 'index');
    const result = await write(path);
    await writeChunks(createReadStream(path));
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
