import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

// A random token per thread plus a counter: unique across processes and threads (also on
// shared filesystems, where pids repeat), without asking the kernel for random bytes per
// call (make writes thousands of chunk files a second).
const token = randomBytes(6).toString('hex');
let counter = 0;

/**
 * The temporary name every writer here uses before its atomic rename: hidden, beside the
 * target (so the rename stays on one filesystem), unique per process and call:
 * `.<name>.<pid>.<random>.tmp`. Chunk listings skip such names.
 */
export function tempPathFor(path: string): string {
  counter++;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${token}${counter.toString(36)}.tmp`);
}
