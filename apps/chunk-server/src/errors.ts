import { DesyncError } from '@desync/core';

/** An uploaded chunk (PUT) does not decompress or does not hash to the id in its path. */
export class UploadRejected extends DesyncError {
  readonly code = 'UPLOAD_REJECTED';
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`rejected an uploaded chunk: ${reason}`, options);
  }
}

/** An upload's body is larger than the server accepts (`maxUploadBytes`). */
export class UploadTooLarge extends DesyncError {
  readonly code = 'UPLOAD_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`an uploaded chunk exceeds ${limit} bytes`);
  }
}
