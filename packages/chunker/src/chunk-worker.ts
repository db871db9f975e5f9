import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import {
  type ChunkHasher,
  isAllZero,
  loadChunkHasher,
  loadCodec,
  writeChunkFileSync,
  type ZstdCodec,
  zeroChunkDigest,
} from '@desync/core';
import { BoundaryScanner } from './boundary-scanner.js';
import { WasmBuzhash } from './buzhash-wasm.js';
import {
  type ChunkFileLayout,
  chunkFilePath,
  type FromWorker,
  type SectionTask,
  type ToWorker,
  type WantReply,
} from './chunk-worker-protocol.js';

// Worker thread: reads one section of a file in blocks, finds casync's boundaries, hashes
// each chunk and, for chunks to store, compresses them, all without copying the data out
// of the block buffer. Which chunks to store the main thread answers (`want`), except for
// a store of local chunk files: the worker looks at the files itself (storeHere).

// Bytes read at a time (at least 2 * max + 64 KiB, see chunkSection). Chunk + hash of 512 MiB
// on 2 cores measured 1, 2 and 4 MiB within 2% of each other, 2 MiB lowest in CPU time.
const BLOCK_SIZE = 2 * 1024 * 1024;
const port = parentPort!;
const pendingWants = new Map<number, (reply: WantReply) => void>();
let nextQueryId = 1;
let codec: ZstdCodec | undefined;
let hasher: ChunkHasher | undefined;
// Loaded while the thread waits for its first task (workers are started ahead of need), so
// the first task does not wait for them; a failure surfaces where a task awaits them.
Promise.allSettled([loadCodec(), loadChunkHasher()]).then(() => {
  WasmBuzhash.get();
  post({ type: 'ready' });
});

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function askWanted(taskId: number, ids: string[]): Promise<WantReply> {
  const queryId = nextQueryId++;
  return new Promise((resolve) => {
    pendingWants.set(queryId, resolve);
    post({ type: 'want', taskId, queryId, ids });
  });
}

let block: Buffer | undefined;

/**
 * The read buffer, reused across sections (one section runs at a time per worker). With
 * WebAssembly it lives in the scanner module's memory, which scans then read in place;
 * this thread scans nothing else, so the view stays valid (see WasmBuzhash).
 */
function blockBuffer(size: number): Buffer {
  const wasm = WasmBuzhash.get();
  if (wasm) return wasm.block(size);
  if (!block || block.length < size) block = Buffer.allocUnsafeSlow(size);
  return block;
}

/** Ids this worker stored or found stored lately (chunk files only), like StoreSink's. */
const RECENT_LIMIT = 65536;
let recent = new Set<string>();

/** True the first time `id` is seen lately; the file answers for older repeats. */
function firstSeen(id: string): boolean {
  if (recent.has(id)) return false;
  if (recent.size >= RECENT_LIMIT) recent = new Set();
  recent.add(id);
  return true;
}

interface Offer {
  id: string;
  at: number;
  size: number;
}

async function chunkSection(task: SectionTask): Promise<void> {
  const { sizes, start, end, overlap, storeFrom, taskId } = task;
  const scanner = new BoundaryScanner(sizes);
  const fd = openSync(task.path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const stopAt = Math.min(end + overlap, fileSize);
    const buf = blockBuffer(Math.max(BLOCK_SIZE, 2 * sizes.max + 64 * 1024));
    const starts: number[] = [];
    const lengths: number[] = [];
    const idChunks: Uint8Array[] = [];
    let bufOffset = start; // file offset of buf[0]
    let filled = 0;
    let cs = 0; // current chunk start in buf
    let filePos = start;
    let done = start >= stopAt;
    while (!done) {
      stopIfAsked(task);
      if (filePos < fileSize && filled < buf.length) {
        const n = readSync(fd, buf, filled, buf.length - filled, filePos);
        filled += n;
        filePos += n;
      }
      const eof = filePos >= fileSize;
      // The block's chunks are found first, then hashed in one call (several at once where
      // the SHA512/256 addon runs, see loadChunkHasher).
      const first = starts.length;
      const blockStarts: number[] = [];
      for (;;) {
        const chunkOffset = bufOffset + cs;
        if (chunkOffset >= stopAt) {
          done = true;
          break;
        }
        let n = scanner.scan(buf, cs, filled);
        if (n < 0) {
          if (!eof) break;
          n = filled - cs;
          if (n === 0) {
            done = true;
            break;
          }
        }
        starts.push(chunkOffset);
        lengths.push(n);
        blockStarts.push(cs);
        cs += n;
      }
      const offers: Offer[] = [];
      if (task.hash && blockStarts.length > 0) {
        hasher ??= await loadChunkHasher();
        const digests = digestBlock(hasher, buf, blockStarts, lengths.slice(first));
        idChunks.push(digests);
        for (let k = 0; k < blockStarts.length; k++) {
          const i = first + k;
          if ((starts[i] as number) < storeFrom) continue;
          const id = Buffer.from(digests.buffer, digests.byteOffset + k * 32, 32).toString('hex');
          offers.push({ id, at: blockStarts[k] as number, size: lengths[i] as number });
        }
      }
      if (offers.length > 0) {
        if (task.chunkFiles) await storeHere(task, buf, offers, task.chunkFiles);
        else await storeOffers(task, buf, offers);
      }
      post({ type: 'progress', taskId, bytes: filePos - start });
      if (done) break;
      // Keep the chunk in progress: move it to the front, read more behind it.
      buf.copyWithin(0, cs, filled);
      bufOffset += cs;
      filled -= cs;
      cs = 0;
    }
    const ids = new Uint8Array(starts.length * (task.hash ? 32 : 0));
    let at = 0;
    for (const d of idChunks) {
      ids.set(d, at);
      at += d.length;
    }
    const msg: FromWorker = {
      type: 'done',
      taskId,
      starts: Float64Array.from(starts),
      sizes: Float64Array.from(lengths),
      ids,
    };
    post(msg, [msg.starts.buffer as ArrayBuffer, msg.sizes.buffer as ArrayBuffer, ids.buffer as ArrayBuffer]);
  } finally {
    closeSync(fd);
  }
}

/**
 * The SHA512/256 of each chunk (32 bytes each, in order). All-zero chunks (disk images hold
 * runs of zeros) take their id by size: a memcmp that stops at the first other byte spares
 * hashing them.
 */
function digestBlock(hasher: ChunkHasher, buf: Buffer, starts: number[], sizes: number[]): Uint8Array {
  const hashed: number[] = [];
  for (let k = 0; k < starts.length; k++) {
    if (!isAllZero(buf, starts[k] as number, sizes[k] as number)) hashed.push(k);
  }
  const pick = (from: number[]) => Float64Array.from(hashed, (k) => from[k] as number);
  const digests = hashed.length > 0 ? hasher.digestMany(buf, pick(starts), pick(sizes)) : new Uint8Array(0);
  if (hashed.length === starts.length) return digests;
  const out = new Uint8Array(starts.length * 32);
  for (let k = 0, j = 0; k < starts.length; k++) {
    if (hashed[j] === k) {
      out.set(digests.subarray(j * 32, j * 32 + 32), k * 32);
      j++;
      continue;
    }
    out.set(zeroChunkDigest(sizes[k] as number), k * 32);
  }
  return out;
}

async function storeOffers(task: SectionTask, buf: Buffer, offers: Offer[]): Promise<void> {
  const { taskId } = task;
  const { wanted, paths } = await askWanted(
    taskId,
    offers.map((o) => o.id),
  );
  codec ??= await loadCodec();
  const ids: string[] = [];
  const frames: Uint8Array[] = [];
  const sizes: number[] = [];
  const transfer: ArrayBuffer[] = [];
  const written: { ids: string[]; frameSizes: number[]; sizes: number[] } = {
    ids: [],
    frameSizes: [],
    sizes: [],
  };
  offers.forEach((o, i) => {
    if (!wanted[i]) return;
    const path = paths?.[i];
    if (path) {
      // A file store: write the chunk here, so its bytes never cross threads.
      stopIfAsked(task);
      const frame = codec!.compressTransient(buf.subarray(o.at, o.at + o.size));
      writeChunkFile(path, o.id, frame);
      written.ids.push(o.id);
      written.frameSizes.push(frame.length);
      written.sizes.push(o.size);
      return;
    }
    const frame = codec!.compress(buf.subarray(o.at, o.at + o.size));
    ids.push(o.id);
    frames.push(frame);
    sizes.push(o.size);
    // Only hand over buffers the frame owns whole (Node may pool small Buffers).
    if (frame.byteOffset === 0 && frame.buffer.byteLength === frame.byteLength)
      transfer.push(frame.buffer as ArrayBuffer);
  });
  if (ids.length > 0) post({ type: 'frames', taskId, ids, frames, sizes }, transfer);
  if (written.ids.length > 0) post({ type: 'written', taskId, ...written });
}

/** Ends the section when the main thread has given up on the run (see SectionTask.stop). */
function stopIfAsked(task: SectionTask): void {
  if (task.stop && Atomics.load(task.stop, 0) !== 0) throw new Error('stopped');
}

/** Writes a chunk file; a failure is tagged with the file and chunk, so it names the store. */
function writeChunkFile(path: string, id: string, frame: Uint8Array): void {
  try {
    writeChunkFileSync(path, frame);
  } catch (err) {
    throw Object.assign(err as Error, { chunkFile: path, chunk: id });
  }
}

/**
 * Stores the offered chunks whose files are missing, without asking the main thread: a
 * synchronous stat answers in microseconds. Two workers may both find a new chunk missing
 * and both write it (same bytes, atomic rename); the main thread counts it once.
 */
async function storeHere(
  task: SectionTask,
  buf: Buffer,
  offers: Offer[],
  layout: ChunkFileLayout,
): Promise<void> {
  const { taskId } = task;
  const written: { ids: string[]; frameSizes: number[]; sizes: number[] } = {
    ids: [],
    frameSizes: [],
    sizes: [],
  };
  for (const o of offers) {
    if (!firstSeen(o.id)) continue;
    const path = chunkFilePath(layout, o.id);
    if (existsSync(path)) continue;
    stopIfAsked(task);
    codec ??= await loadCodec();
    const frame = codec.compressTransient(buf.subarray(o.at, o.at + o.size));
    writeChunkFile(path, o.id, frame);
    written.ids.push(o.id);
    written.frameSizes.push(frame.length);
    written.sizes.push(o.size);
  }
  if (written.ids.length > 0) post({ type: 'written', taskId, ...written });
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'want-reply') {
    const resolve = pendingWants.get(msg.queryId);
    pendingWants.delete(msg.queryId);
    resolve?.(msg);
    return;
  }
  chunkSection(msg).catch((err: NodeJS.ErrnoException & { chunkFile?: string; chunk?: string }) => {
    post({
      type: 'error',
      taskId: msg.taskId,
      message: err?.message ?? String(err),
      code: err?.code,
      chunkFile: err?.chunkFile,
      chunk: err?.chunk,
    });
  });
});
