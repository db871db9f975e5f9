import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * The temporary name every writer here uses before its atomic rename: hidden, beside the
 * target (so the rename stays on one filesystem), unique per process and call:
 * `.<name>.<pid>.<random>.tmp`. Chunk listings skip such names.
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}
