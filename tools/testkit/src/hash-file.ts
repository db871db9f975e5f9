import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * The hex digest of a file's content, streamed so multi-GB files are fine.
 * @param algorithm any `crypto.createHash` name; default `sha256`.
 */
export async function hashFile(path: string, algorithm?: string): Promise<string> {
  const hash = createHash(algorithm ?? 'sha256');
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(piece);
  return hash.digest('hex');
}
