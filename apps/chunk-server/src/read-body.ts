import { UploadTooLarge } from './errors.js';

/**
 * Reads a request body of at most `limit` bytes. The stream is cancelled as soon as it
 * passes the limit, so an oversized upload is never held in memory.
 * @throws UploadTooLarge past the limit.
 */
export async function readBoundedBody(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw new UploadTooLarge(limit);
      }
      parts.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(parts, size);
}
