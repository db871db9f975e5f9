import { once } from 'node:events';

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
