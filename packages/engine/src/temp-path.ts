import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** A hidden temporary name beside `path`, so a rename to `path` stays on one filesystem. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}
