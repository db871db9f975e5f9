import { DesyncError } from '@desync/core';

/**
 * A catar stream is malformed or hostile (bad name, truncated, inconsistent sizes, goodbye
 * table that does not match). The message is one line naming the archive, the byte offset
 * of the offending object and the entry path ('.' for the root).
 */
export class CatarFormatError extends DesyncError {
  readonly code = 'CATAR_FORMAT';
  constructor(
    /** What the archive was called (options.name), or 'catar stream'. */
    readonly archive: string,
    /** Byte offset of the offending object in the stream. */
    readonly offset: number,
    /** Path of the entry being read, relative to the root; '' for the root. */
    readonly path: string,
    /** What is wrong, in a few words. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `${archive}: not a valid catar archive at byte ${offset} (entry ${JSON.stringify(path === '' ? '.' : path)}): ${reason}`,
      options,
    );
  }
}
