import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { type Header, pack } from 'tar-stream';

/** All bytes of an async byte stream. */
export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const b of stream) parts.push(b);
  return Buffer.concat(parts);
}

/** `bytes` as a stream of `blockSize`-byte blocks (odd sizes exercise the parsers' buffering). */
export async function* streamOf(bytes: Uint8Array, blockSize = 1000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += blockSize) yield bytes.subarray(at, at + blockSize);
}

/** A file's bytes as a stream. */
export async function* fileStream(path: string): AsyncGenerator<Uint8Array> {
  yield* streamOf(await readFile(path), 4096);
}

/** Runs GNU tar, failing the test with its stderr. */
export function gnuTar(args: readonly string[]): Buffer {
  return execFileSync('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

/** One crafted tar entry: a header (pax keys allowed) and, for files, the contents. */
export interface CraftedEntry {
  header: Partial<Header> & Pick<Header, 'name'> & { pax?: Record<string, string> };
  data?: string | Uint8Array;
}

/** A tar stream of `entries`, written with tar-stream (ustar, pax where needed). */
export async function craftTar(entries: readonly CraftedEntry[]): Promise<Buffer> {
  const p = pack();
  const out = collect(p as AsyncIterable<Uint8Array>);
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      const header = { mtime: new Date(1_600_000_000_000), ...e.header };
      if (e.data !== undefined) p.entry(header, e.data, cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  return out;
}
