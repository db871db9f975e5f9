import { once } from 'node:events';
import { constants } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { describeSystemError, FileError } from './errors.js';
import { outputTarget, writesInPlace } from './output-target.js';
import { tempPathFor } from './temp-path.js';

/**
 * Writes `stream` to `path`. A new or regular file is written atomically: the bytes go to a
 * temporary file beside it, renamed over it once all are written, removed on error or abort,
 * so no partial file is ever left (through a symbolic link, the file it names). A device or
 * FIFO (`/dev/null`, a disk, a named pipe) is written directly: a rename would replace it by
 * a regular file. `-`, and `/dev/stdout` when it is a socket, go through `process.stdout`.
 * @throws FileError naming `path` when it cannot be written; whatever `stream` throws.
 */
export async function writeOutput(path: string, stream: AsyncIterable<Uint8Array>): Promise<void> {
  if (path === '-') return pipeToStdout(stream);
  const target = await outputTarget(path);
  if (target.kind === 'socket') return pipeToStdout(stream);
  const direct = writesInPlace(target);
  const tmp = direct ? path : tempPathFor(target.path);
  const failed = (err: unknown) => new FileError(path, describeSystemError(err), { cause: err });
  let handle: FileHandle;
  try {
    handle = await open(tmp, direct ? constants.O_WRONLY : 'wx');
  } catch (err) {
    throw failed(err);
  }
  let done = false;
  try {
    for await (const bytes of stream) {
      await handle.write(bytes).catch((err: unknown) => {
        throw failed(err);
      });
    }
    await handle.close().catch((err: unknown) => {
      throw failed(err);
    });
    if (!direct) {
      await rename(tmp, target.path).catch((err: unknown) => {
        throw failed(err);
      });
    }
    done = true;
  } finally {
    if (!done) {
      await handle.close().catch(() => {});
      if (!direct) await rm(tmp, { force: true });
    }
  }
}

async function pipeToStdout(stream: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const bytes of stream) {
    if (!process.stdout.write(bytes)) await once(process.stdout, 'drain');
  }
}

/** Writes `bytes` to standard output, waiting until it took them (a socket or pipe may be full). */
export function writeToStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}
