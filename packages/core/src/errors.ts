/**
 * Every error this project throws on purpose extends DesyncError: it has a stable `code`
 * to branch on, and a message that says what failed and what to do.
 */
export abstract class DesyncError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A chunk is in none of the stores asked. */
export class ChunkMissing extends DesyncError {
  readonly code = 'CHUNK_MISSING';
  constructor(
    readonly id: string,
    readonly store: string,
    options?: ErrorOptions,
  ) {
    super(`chunk ${id} is not in ${store}; check --store and the index it came from`, options);
  }
}

/** A chunk's content does not hash to its id, or it does not decompress. */
export class ChunkInvalid extends DesyncError {
  readonly code = 'CHUNK_INVALID';
  constructor(
    readonly id: string,
    readonly store: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`chunk ${id} in ${store} is corrupt (${reason}); run verify -r on that store`, options);
  }
}

/** An index file (caibx/caidx) is malformed. */
export class IndexFormatError extends DesyncError {
  readonly code = 'INDEX_FORMAT';
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: not a valid casync index: ${reason}`, options);
  }
}

/** A store failed for a reason other than a missing or corrupt chunk. */
export class StoreError extends DesyncError {
  readonly code = 'STORE_ERROR';
  constructor(
    readonly store: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${store}: ${reason}`, options);
  }
}

/** The user gave a value that cannot work (flag, URL, chunk sizes). */
export class InvalidArgument extends DesyncError {
  readonly code = 'INVALID_ARGUMENT';
}

/** A file the user named cannot be read or written. */
export class FileError extends DesyncError {
  readonly code = 'FILE_ERROR';
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/** A file does not match the index it is checked against. */
export class DataMismatch extends DesyncError {
  readonly code = 'DATA_MISMATCH';
}

/** The operation was aborted (signal or user). */
export class Aborted extends DesyncError {
  readonly code = 'ABORTED';
  constructor(options?: ErrorOptions) {
    super('aborted', options);
  }
}

/** Process exit status for each error code: one table, used by the CLI. */
export const EXIT_CODES: Readonly<Record<string, number>> = {
  CHUNK_MISSING: 3,
  CHUNK_INVALID: 4,
  INDEX_FORMAT: 5,
  CATAR_FORMAT: 9,
  TAR_FORMAT: 10,
  STORE_ERROR: 6,
  INVALID_ARGUMENT: 2,
  FILE_ERROR: 7,
  DATA_MISMATCH: 8,
  ABORTED: 130,
};

/** Describes a Node system error (ENOENT, EACCES, ...) in a few words. */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a path component is not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EEXIST':
      return 'already exists';
    default:
      return e?.message ?? String(err);
  }
}
