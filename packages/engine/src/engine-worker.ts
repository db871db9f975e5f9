import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { loadCodec, MAX_CHUNK_SIZE, type ZstdCodec } from '@desync/core';
import type {
  ExtractItem,
  ExtractOutcome,
  WorkerRequest,
  WorkerResponse,
  WorkerResult,
  WorkerTask,
} from './worker-protocol.js';

// Worker thread for the CPU-heavy steps of extract, chop and verify: zstd, SHA512/256 and
// positioned file I/O, so the main thread only moves chunks between stores and workers.

const port = parentPort!;
let codec: ZstdCodec | undefined;
// One descriptor per file for the worker's life: chunks of one target arrive by thousands.
const fds = new Map<string, number>();

function fdFor(path: string, flags: string): number {
  const key = `${flags}:${path}`;
  let fd = fds.get(key);
  if (fd === undefined) {
    fd = openSync(path, flags);
    fds.set(key, fd);
  }
  return fd;
}

function digest(data: Uint8Array): string {
  return createHash('sha512-256').update(data).digest('hex');
}

let zeros = Buffer.alloc(256 * 1024);

/** True when every byte is 0 (memcmp against a zero buffer: far faster than a JS loop). */
function isZero(data: Uint8Array): boolean {
  if (zeros.length < data.length) zeros = Buffer.alloc(data.length);
  return Buffer.compare(data, zeros.subarray(0, data.length)) === 0;
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}

function readRange(path: string, offset: number, size: number): Buffer {
  const fd = fdFor(path, 'r');
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return got === size ? buf : buf.subarray(0, got);
}

// Buffers reused from chunk to chunk: a worker that allocated per chunk would leave tens
// of MB of dead ArrayBuffers between garbage collections.
let frameBuf = Buffer.allocUnsafeSlow(512 * 1024);
let plainBuf = Buffer.allocUnsafeSlow(512 * 1024);

/** Reads a whole chunk file into frameBuf; undefined when it does not exist. */
function readChunkFile(path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_CHUNK_SIZE)
      throw Object.assign(new Error(`chunk file of ${size} bytes`), { invalid: true });
    if (frameBuf.length < size) frameBuf = Buffer.allocUnsafeSlow(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, frameBuf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return frameBuf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Decompresses a chunk file's frame into plainBuf and checks it against the id; the plain bytes or why not. */
async function plainOfFrame(frame: Uint8Array, id: string, size: number): Promise<Uint8Array | string> {
  codec ??= await loadCodec();
  if (plainBuf.length < size + 1) plainBuf = Buffer.allocUnsafeSlow(size + 1);
  let n: number;
  try {
    // One byte of room beyond the size tells a frame that is too long from an exact one.
    n = codec.decompressInto(frame, plainBuf.subarray(0, size + 1));
  } catch {
    return 'not a valid zstd frame of the expected size';
  }
  if (n !== size) return `holds ${n} bytes, the index says ${size}`;
  const plain = plainBuf.subarray(0, n);
  const actual = digest(plain);
  return actual === id ? plain : `content hashes to ${actual}`;
}

function writeAt(target: string, data: Uint8Array, offsets: readonly number[], skipZero: boolean): void {
  if (skipZero && isZero(data)) return;
  const fd = fdFor(target, 'r+');
  for (const at of offsets) writeAll(fd, data, at);
}

async function extractItem(item: ExtractItem, target: string, skipZero: boolean): Promise<ExtractOutcome> {
  for (let k = 0; k < item.copies.length; k++) {
    const c = item.copies[k] as ExtractItem['copies'][number];
    let data: Buffer;
    try {
      data = readRange(c.file, c.offset, item.size);
    } catch {
      continue; // an unreadable seed only costs a fetch
    }
    if (data.length !== item.size || digest(data) !== item.id) continue;
    writeAt(target, data, item.offsets, skipZero);
    return { done: true, copy: k };
  }
  for (let k = 0; k < item.paths.length; k++) {
    let frame: Uint8Array | undefined;
    try {
      frame = readChunkFile(item.paths[k] as string);
    } catch (err) {
      if ((err as { invalid?: boolean }).invalid) {
        return { done: false, invalid: { path: k, message: (err as Error).message } };
      }
      throw err;
    }
    if (!frame) continue;
    const plain = await plainOfFrame(frame, item.id, item.size);
    if (typeof plain === 'string') return { done: false, invalid: { path: k, message: plain } };
    writeAt(target, plain, item.offsets, skipZero);
    return { done: true, path: k };
  }
  return { done: false };
}

async function run(task: WorkerTask): Promise<WorkerResult> {
  switch (task.type) {
    case 'extract-batch': {
      const outcomes: ExtractOutcome[] = [];
      for (const item of task.items) outcomes.push(await extractItem(item, task.target, task.skipZero));
      return { ok: true, outcomes };
    }
    case 'write-chunk': {
      const plain = task.plain ? task.data : await decompress(task.data, task.size);
      if (plain.length !== task.size) {
        return {
          ok: false,
          kind: 'invalid',
          message: `holds ${plain.length} bytes, the index says ${task.size}`,
        };
      }
      const actual = digest(plain);
      if (actual !== task.id) return { ok: false, kind: 'invalid', message: `content hashes to ${actual}` };
      writeAt(task.target, plain, task.offsets, task.skipZero);
      return { ok: true };
    }
    case 'read-chunk': {
      const data = readRange(task.source, task.offset, task.size);
      if (data.length !== task.size) {
        return { ok: false, kind: 'io', message: `ends before byte ${task.offset + task.size}` };
      }
      const id = digest(data);
      if (!task.compress) return { ok: true, id };
      codec ??= await loadCodec();
      return { ok: true, id, frame: codec.compress(data) };
    }
    case 'compress-chunk': {
      codec ??= await loadCodec();
      return { ok: true, frame: codec.compress(task.data) };
    }
    case 'close-files': {
      for (const fd of fds.values()) closeSync(fd);
      fds.clear();
      return { ok: true };
    }
    case 'verify-chunk': {
      const plain = task.plain ? task.data : await decompress(task.data, task.expectedSize);
      const actual = digest(plain);
      if (actual !== task.id) return { ok: false, kind: 'invalid', message: `content hashes to ${actual}` };
      return task.keepPlain ? { ok: true, plain } : { ok: true };
    }
  }
}

async function decompress(frame: Uint8Array, expectedSize?: number): Promise<Uint8Array> {
  codec ??= await loadCodec();
  try {
    return codec.decompress(frame, MAX_CHUNK_SIZE, expectedSize);
  } catch (err) {
    throw Object.assign(new Error('not a valid zstd frame'), { invalid: true, cause: err });
  }
}

port.on('message', (req: WorkerRequest) => {
  run(req.task).then(
    (result) => {
      const transfer: ArrayBuffer[] = [];
      const buf = result.ok ? (result.frame ?? result.plain) : undefined;
      if (buf && buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength)
        transfer.push(buf.buffer as ArrayBuffer);
      port.postMessage({ seq: req.seq, result } satisfies WorkerResponse, transfer);
    },
    (err: Error & { code?: string; invalid?: boolean }) => {
      const result: WorkerResult = err.invalid
        ? { ok: false, kind: 'invalid', message: err.message }
        : { ok: false, kind: 'io', message: err.message, code: err.code };
      port.postMessage({ seq: req.seq, result } satisfies WorkerResponse);
    },
  );
});
