import { DesyncError } from '@desync/core';

/**
 * A tar stream cannot be converted: it is malformed or truncated, holds an unsafe name
 * (absolute, or with a `..` component), an entry type catar cannot hold, or a hard link to
 * an entry that is not in the archive before it. The message is one line naming the archive
 * and the entry.
 */
export class TarFormatError extends DesyncError {
  readonly code = 'TAR_FORMAT';
  constructor(
    /** What the archive was called (options.name), or 'tar stream'. */
    readonly archive: string,
    /** Name of the offending entry as the tar stores it; '' when no entry is involved. */
    readonly entry: string,
    /** What is wrong, in a few words. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      entry === ''
        ? `${archive}: cannot convert the tar stream: ${reason}`
        : `${archive}: cannot convert entry ${JSON.stringify(entry)}: ${reason}`,
      options,
    );
  }
}
