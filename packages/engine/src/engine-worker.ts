import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import {
  type ChunkHasher,
  isAllZero,
  loadChunkHasher,
  loadCodec,
  MAX_CHUNK_SIZE,
  type ZstdCodec,
} from '@desync/core';
import { pwriteAll } from './pwrite-all.js';
import type {
  ExtractItem,
  ExtractOutcome,
  WorkerReady,
  WorkerRequest,
  WorkerResponse,
  WorkerResult,
  WorkerTask,
} from './worker-protocol.js';

// Worker thread for the CPU-heavy steps of extract, chop and verify: zstd, SHA512/256 and
// positioned file I/O, so the main thread only moves chunks between stores and workers.

const port = parentPort!;
let codec: ZstdCodec | undefined;
let hasher: ChunkHasher | undefined;
// Loaded while the thread waits for its first task (workers are started ahead of need), so
// the first task does not wait for them; a failure surfaces where a task awaits them.
Promise.allSettled([loadCodec(), loadChunkHasher()]).then(() =>
  port.postMessage({ type: 'ready' } satisfies WorkerReady),
);
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

function readRange(path: string, offset: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  const got = readRangeInto(path, offset, buf);
  return got === size ? buf : buf.subarray(0, got);
}

// Buffers reused from chunk to chunk: a worker that allocated per chunk would leave tens
// of MB of dead ArrayBuffers between garbage collections.
let frameBuf = Buffer.allocUnsafeSlow(512 * 1024);

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
    // A chunk file is complete once it has its name (written under a temporary one, then
    // renamed): a read that leaves the buffer room has reached its end, with no fstat first.
    let got = 0;
    for (;;) {
      got += readSync(fd, frameBuf, got, frameBuf.length - got, got);
      if (got < frameBuf.length) return frameBuf.subarray(0, got);
      if (got > MAX_CHUNK_SIZE)
        throw Object.assign(new Error(`chunk file of more than ${MAX_CHUNK_SIZE} bytes`), { invalid: true });
      const larger = Buffer.allocUnsafeSlow(Math.min(frameBuf.length * 2, MAX_CHUNK_SIZE + 1));
      frameBuf.copy(larger, 0, 0, got);
      frameBuf = larger;
    }
  } finally {
    closeSync(fd);
  }
}

function writeAt(
  target: string,
  data: Uint8Array,
  offsets: readonly number[],
  skipZero: boolean,
  inPlace = false,
): void {
  if (skipZero && isAllZero(data)) return;
  const fd = fdFor(target, 'r+');
  for (const at of offsets) {
    if (!inPlace || !holdsAt(target, at, data)) pwriteAll(fd, data, 0, data.length, at);
  }
}

let compareBuf = Buffer.allocUnsafeSlow(0);

/**
 * True when `path` already holds `data` at `offset`: a device written in place keeps what is
 * right (a write costs more than a read there, and wears flash).
 */
function holdsAt(path: string, offset: number, data: Uint8Array): boolean {
  if (compareBuf.length < data.length) compareBuf = Buffer.allocUnsafeSlow(data.length);
  const slot = compareBuf.subarray(0, data.length);
  return readRangeInto(path, offset, slot) === data.length && slot.equals(data);
}

/** Reads `buf.length` bytes of `path` at `offset` into `buf`; how many there were. */
function readRangeInto(path: string, offset: number, buf: Buffer): number {
  const fd = fdFor(path, 'r');
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** The index of the first copy (a range of an existing file) holding the item, read into `slot`; -1 if none. */
function readFromCopies(item: ExtractItem, slot: Buffer): number {
  for (let k = 0; k < item.copies.length; k++) {
    const c = item.copies[k] as ExtractItem['copies'][number];
    let got: number;
    try {
      got = readRangeInto(c.file, c.offset, slot);
    } catch {
      continue; // an unreadable seed only costs a fetch
    }
    if (got === item.size && digest(slot) === item.id) return k;
  }
  return -1;
}

// A chunk file read slower than this came from the disk: the page cache answered 97-98% of
// reads within 50 µs here (64 KiB files on average), a cold store took 330 µs a file. A few
// warm reads are slow too (a thread preempted mid-read), so the main thread looks at how
// many of a batch's reads were slow.
const slowRead = (ms: number, bytes: number): boolean => ms > 0.1 + bytes / 1e6;

// Batch buffers are made this large (batches end at 4 MiB plus a chunk) so any batch fits one
// handed back for reuse.
const BATCH_BUFFER_BYTES = 4 * 1024 * 1024 + 512 * 1024;

/** A chunk decompressed into the batch's buffer, waiting for its hash check. */
interface Unverified {
  item: number;
  path: number;
  at: number;
}

/**
 * Extracts a batch into one new buffer: for each item, the first source that yields bytes
 * hashing to its id (ranges of existing files, then the stores' chunk files, in order) is
 * placed in the buffer. A chunk file that exists but does not hold the chunk ends the
 * item's search (reported as invalid). The main thread writes the buffer out (`writes`:
 * buffer position, size, target offset): one writer per file, since two threads writing
 * into one file contend for its lock and cost twice the system time.
 */
async function extractBatch(
  items: ExtractItem[],
  skipZero: boolean,
  spare?: ArrayBuffer,
  inPlace?: string,
): Promise<WorkerResult> {
  codec ??= await loadCodec();
  hasher ??= await loadChunkHasher();
  // One byte of room beyond the last chunk: decompression into a slot of size + 1 tells a
  // frame that is too long from an exact one (the byte spills into the next slot, unused yet).
  let total = 1;
  for (const item of items) total += item.size;
  const data =
    spare && spare.byteLength >= total
      ? Buffer.from(spare, 0, total)
      : Buffer.from(new ArrayBuffer(Math.max(total, BATCH_BUFFER_BYTES)), 0, total);
  const outcomes: ExtractOutcome[] = items.map(() => ({ done: false }));
  let slowReads = 0;
  const pending: Unverified[] = [];
  const writes: number[] = [];
  const place = (item: ExtractItem, at: number): void => {
    const bytes = data.subarray(at, at + item.size);
    if (skipZero && isAllZero(bytes)) return; // a hole already
    for (const offset of item.offsets) {
      if (inPlace === undefined || !holdsAt(inPlace, offset, bytes)) writes.push(at, item.size, offset);
    }
  };
  let used = 0;
  for (const [k, item] of items.entries()) {
    const copy = readFromCopies(item, data.subarray(used, used + item.size));
    if (copy >= 0) {
      outcomes[k] = { done: true, copy };
      place(item, used);
      used += item.size;
      continue;
    }
    for (let p = 0; p < item.paths.length; p++) {
      let frame: Uint8Array | undefined;
      try {
        const start = performance.now();
        frame = readChunkFile(item.paths[p] as string);
        if (frame && slowRead(performance.now() - start, frame.length)) slowReads++;
      } catch (err) {
        // Not a missing file (that is `undefined`): the store itself fails, say which.
        if (!(err as { invalid?: boolean }).invalid)
          throw Object.assign(err as Error, { storeRead: { chunk: item.id, path: p } });
        outcomes[k] = { done: false, invalid: { path: p, message: (err as Error).message } };
        break;
      }
      if (!frame) continue;
      let n: number;
      try {
        n = codec.decompressInto(frame, data.subarray(used, used + item.size + 1));
      } catch {
        outcomes[k] = {
          done: false,
          invalid: { path: p, message: 'not a valid zstd frame of the expected size' },
        };
        break;
      }
      if (n !== item.size) {
        outcomes[k] = {
          done: false,
          invalid: { path: p, message: `holds ${n} bytes, the index says ${item.size}` },
        };
        break;
      }
      pending.push({ item: k, path: p, at: used });
      used += n;
      break;
    }
  }
  if (pending.length > 0) {
    // Every chunk of the batch in one call: several at once where the SHA512/256 addon runs.
    const digests = Buffer.from(
      hasher.digestMany(
        data,
        Float64Array.from(pending, (u) => u.at),
        Float64Array.from(pending, (u) => (items[u.item] as ExtractItem).size),
      ),
    );
    pending.forEach((u, j) => {
      const item = items[u.item] as ExtractItem;
      const actual = digests.toString('hex', j * 32, j * 32 + 32);
      if (actual !== item.id) {
        outcomes[u.item] = { done: false, invalid: { path: u.path, message: `content hashes to ${actual}` } };
        return;
      }
      outcomes[u.item] = { done: true, path: u.path };
      place(item, u.at);
    });
  }
  return { ok: true, outcomes, data, writes: Float64Array.from(writes), slowReads };
}

async function run(task: WorkerTask): Promise<WorkerResult> {
  switch (task.type) {
    case 'extract-batch':
      return extractBatch(task.items, task.skipZero, task.buffer, task.inPlace);
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
      writeAt(task.target, plain, task.offsets, task.skipZero, task.inPlace);
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
      // A batch's buffer is its own (fresh or handed back): it moves whole, to be reused.
      if (result.ok && result.data) transfer.push(result.data.buffer as ArrayBuffer);
      if (result.ok && result.writes) transfer.push(result.writes.buffer as ArrayBuffer);
      port.postMessage({ seq: req.seq, result } satisfies WorkerResponse, transfer);
    },
    (err: Error & { code?: string; invalid?: boolean; storeRead?: { chunk: string; path: number } }) => {
      const result: WorkerResult = err.invalid
        ? { ok: false, kind: 'invalid', message: err.message }
        : { ok: false, kind: 'io', message: err.message, code: err.code, storeRead: err.storeRead };
      port.postMessage({ seq: req.seq, result } satisfies WorkerResponse);
    },
  );
});
