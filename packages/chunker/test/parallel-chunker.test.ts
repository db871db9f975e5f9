import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Aborted,
  type ChunkId,
  digestChunk,
  FileError,
  loadCodec,
  StoreError,
  type ZstdCodec,
} from '@desync/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkSink, type ChunkSizes, chunkFile, DEFAULT_CHUNK_SIZES } from '../src/index.js';
import { chunkerInputArb } from './arbitraries.js';
import { chunkFileAll, serialChunksOf } from './file-chunks.js';
import { bytesWithRuns } from './run-data.js';
import { makeTempDir, randomBytes, removeTempDir, writeMixedFile } from './testkit.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let dir: string;
let codec: ZstdCodec;
let fileCount = 0;

beforeAll(async () => {
  dir = await makeTempDir('desync-chunker-');
  codec = await loadCodec();
});

afterAll(async () => {
  await removeTempDir(dir);
});

async function writeTemp(data: Uint8Array): Promise<string> {
  const path = join(dir, `input-${fileCount++}`);
  await writeFile(path, data);
  return path;
}

interface Case {
  name: string;
  data: () => Uint8Array;
  sizes: ChunkSizes;
  sectionSize: number;
}

// Forced small sections: planSections rounds them up to 4 overlaps (and to a multiple of
// max), e.g. 2 MiB for 16:64:256 KiB, so every file below spans many sections.
const cases: Case[] = [
  {
    name: 'random, 16:64:256 KiB',
    data: () => randomBytes(10 * MiB, 1),
    sizes: DEFAULT_CHUNK_SIZES,
    sectionSize: MiB,
  },
  {
    name: 'zeros, 16:64:256 KiB',
    data: () => new Uint8Array(9 * MiB + 5),
    sizes: DEFAULT_CHUNK_SIZES,
    sectionSize: MiB,
  },
  {
    name: 'random with runs longer than the overlap, 16:64:256 KiB',
    data: () => bytesWithRuns(12 * MiB, 1536 * KiB, 2),
    sizes: DEFAULT_CHUNK_SIZES,
    sectionSize: MiB,
  },
  {
    name: 'random with runs, 2:8:32 KiB',
    data: () => bytesWithRuns(2 * MiB, 200 * KiB, 3),
    sizes: { min: 2 * KiB, avg: 8 * KiB, max: 32 * KiB },
    sectionSize: 64 * KiB,
  },
  {
    name: 'random with runs, min below the window (16:64:1024 bytes)',
    data: () => bytesWithRuns(384 * KiB, 8 * KiB, 4),
    sizes: { min: 16, avg: 64, max: 1024 },
    sectionSize: 8 * KiB,
  },
  {
    name: 'random with runs, uneven sizes (1000:3000:7001 bytes)',
    data: () => bytesWithRuns(MiB + 3, 40 * KiB, 5),
    sizes: { min: 1000, avg: 3000, max: 7001 },
    sectionSize: 1,
  },
  {
    name: 'random, fixed size (4096 bytes)',
    data: () => randomBytes(MiB + 100, 6),
    sizes: { min: 4096, avg: 4096, max: 4096 },
    sectionSize: 1,
  },
  {
    name: 'random, max below the window (1:2:4 bytes)',
    data: () => randomBytes(5000, 7),
    sizes: { min: 1, avg: 2, max: 4 },
    sectionSize: 1,
  },
];

describe('chunkFile', () => {
  describe.each(cases)('$name', ({ data, sizes, sectionSize }) => {
    let path: string;
    let bytes: Uint8Array;
    beforeAll(async () => {
      bytes = data();
      path = await writeTemp(bytes);
    });

    it.each([1, 2, 3])(
      'yields exactly the serial chunks and ids with concurrency %i',
      async (concurrency) => {
        const chunks = await chunkFileAll(path, { sizes, sectionSize, concurrency });
        const serial = serialChunksOf(bytes, sizes);
        expect(chunks.length).toBe(serial.length);
        expect(chunks).toEqual(serial);
      },
    );
  });

  it('yields ids that are the SHA512/256 of each chunk’s bytes', async () => {
    const bytes = bytesWithRuns(3 * MiB, 100 * KiB, 8);
    const path = await writeTemp(bytes);
    const chunks = await chunkFileAll(path, { sectionSize: MiB, concurrency: 2 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) expect(c.id).toBe(digestChunk(bytes.subarray(c.start, c.start + c.size)));
  });

  it('yields the serial chunks of tar-like mixed data with default options', async () => {
    const path = join(dir, 'mixed');
    await writeMixedFile(path, 8 * MiB, 9);
    const bytes = await readFile(path);
    expect(await chunkFileAll(path, { sectionSize: MiB, concurrency: 2 })).toEqual(
      serialChunksOf(bytes, DEFAULT_CHUNK_SIZES),
    );
    expect(await chunkFileAll(path)).toEqual(serialChunksOf(bytes, DEFAULT_CHUNK_SIZES));
  });

  it('yields the serial chunks when the last sections are cut smaller (default plan, 40 MiB)', async () => {
    // 5 MiB sections, then 2 MiB ones for the last 10 MiB (two workers' worth).
    const path = join(dir, 'mixed-40');
    await writeMixedFile(path, 40 * MiB, 11);
    const bytes = await readFile(path);
    expect(await chunkFileAll(path, { concurrency: 2 })).toEqual(serialChunksOf(bytes, DEFAULT_CHUNK_SIZES));
  });

  it('yields the serial chunks for random inputs, sizes and section sizes', async () => {
    const sizesArb = fc
      .tuple(
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 0, max: 1500 }),
        fc.integer({ min: 0, max: 3000 }),
      )
      .map(([min, a, b]) => ({ min, avg: min + a, max: min + a + b }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(chunkerInputArb, { minLength: 1, maxLength: 6 }),
        sizesArb,
        fc.integer({ min: 1, max: 64 * KiB }),
        fc.integer({ min: 1, max: 3 }),
        async (parts, sizes, sectionSize, concurrency) => {
          const bytes = Buffer.concat(parts);
          const path = await writeTemp(bytes);
          expect(await chunkFileAll(path, { sizes, sectionSize, concurrency })).toEqual(
            serialChunksOf(bytes, sizes),
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  it('yields nothing for an empty file', async () => {
    expect(await chunkFileAll(await writeTemp(new Uint8Array(0)))).toEqual([]);
  });

  it('yields one chunk for a file shorter than min', async () => {
    const bytes = randomBytes(100, 10);
    expect(await chunkFileAll(await writeTemp(bytes))).toEqual(serialChunksOf(bytes, DEFAULT_CHUNK_SIZES));
  });

  it('rejects a missing file with FileError naming the path', async () => {
    const path = join(dir, 'does-not-exist');
    const err = await chunkFileAll(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('FILE_ERROR');
    expect((err as FileError).message).toContain(path);
  });

  it('rejects a directory with FileError', async () => {
    const path = join(dir, 'a-directory');
    await mkdir(path, { recursive: true });
    await expect(chunkFileAll(path)).rejects.toBeInstanceOf(FileError);
  });

  it('rejects with Aborted when the signal fires while chunking', async () => {
    const path = await writeTemp(randomBytes(8 * MiB, 11));
    const controller = new AbortController();
    const run = chunkFileAll(path, {
      sectionSize: MiB,
      concurrency: 1,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(run).rejects.toBeInstanceOf(Aborted);
  });

  it('rejects with Aborted when the signal is already aborted', async () => {
    const path = await writeTemp(randomBytes(MiB, 12));
    await expect(chunkFileAll(path, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(Aborted);
  });

  it('reports progress that rises to the file size and never passes it', async () => {
    const bytes = randomBytes(6 * MiB + 1, 13);
    const path = await writeTemp(bytes);
    const seen: number[] = [];
    await chunkFileAll(path, { sectionSize: MiB, concurrency: 2, onProgress: (n) => seen.push(n) });
    expect(seen.length).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    expect(Math.max(...seen)).toBe(bytes.length);
    expect(seen[seen.length - 1]).toBe(bytes.length);
  });

  it('reports progress no further than the sections chunked so far', async () => {
    // 12 MiB in six 2 MiB sections with one worker: when the first batch is yielded the
    // first two sections are chunked (the second is needed to join the first), not more.
    // Progress once counted each worker's 4 MiB read-ahead and finished sections twice.
    const bytes = randomBytes(12 * MiB, 18);
    const path = await writeTemp(bytes);
    let latest = 0;
    const atBatch: number[] = [];
    const batches = chunkFile(path, { sectionSize: MiB, concurrency: 1, onProgress: (n) => (latest = n) });
    for await (const _ of batches) atBatch.push(latest);
    expect(atBatch[0]).toBeLessThanOrEqual(bytes.length / 2);
    expect(atBatch[atBatch.length - 1]).toBe(bytes.length);
  });
});

describe('chunkFile with a sink', () => {
  interface Put {
    id: ChunkId;
    frame: Uint8Array;
    size: number;
  }

  function recordingSink(wants: (id: ChunkId) => boolean = () => true): { sink: ChunkSink; puts: Put[] } {
    const puts: Put[] = [];
    return {
      puts,
      sink: {
        want: async (ids) => ids.map(wants),
        put: async (id, frame, size) => {
          puts.push({ id, frame, size });
        },
      },
    };
  }

  /** Every put frame holds its chunk; every chunk in the result was put. Returns extra puts. */
  function checkPuts(puts: Put[], chunks: { id: ChunkId; size: number }[]): ChunkId[] {
    for (const p of puts) {
      const plain = codec.decompress(p.frame, p.size, p.size);
      expect(plain.length).toBe(p.size);
      expect(digestChunk(plain)).toBe(p.id);
    }
    const put = new Set(puts.map((p) => p.id));
    for (const c of chunks) expect(put.has(c.id)).toBe(true);
    const final = new Set(chunks.map((c) => c.id));
    return [...put].filter((id) => !final.has(id));
  }

  // Sections that do not join (runs longer than the overlap) are chunked again; chunks the
  // first attempt offered may then be missing from the result. That is allowed (the store
  // gets an unreferenced chunk) but worth knowing about, so it is logged, not failed.
  const sinkCases: Case[] = [cases[0], cases[2], cases[3], cases[4], cases[5]];
  describe.each(sinkCases)('$name', ({ name, data, sizes, sectionSize }) => {
    let path: string;
    let bytes: Uint8Array;
    beforeAll(async () => {
      bytes = data();
      path = await writeTemp(bytes);
    });

    it.each([1, 3])('puts a frame of every chunk it yields, concurrency %i', async (concurrency) => {
      const { sink, puts } = recordingSink();
      const chunks = await chunkFileAll(path, { sizes, sectionSize, concurrency, sink });
      expect(chunks).toEqual(serialChunksOf(bytes, sizes));
      const extra = checkPuts(puts, chunks);
      if (extra.length > 0) {
        console.info(
          `${name}, concurrency ${concurrency}: ${extra.length} chunk(s) put but not in the result`,
          extra,
        );
      }
    });
  });

  it('puts only the chunks the sink wants', async () => {
    const bytes = bytesWithRuns(4 * MiB, 100 * KiB, 14);
    const path = await writeTemp(bytes);
    const { sink, puts } = recordingSink((id) => id.endsWith('0') || id.endsWith('8'));
    const chunks = await chunkFileAll(path, { sectionSize: MiB, concurrency: 2, sink });
    const wanted = chunks.filter((c) => c.id.endsWith('0') || c.id.endsWith('8'));
    expect(wanted.length).toBeGreaterThan(0);
    for (const p of puts) expect(p.id.endsWith('0') || p.id.endsWith('8')).toBe(true);
    checkPuts(puts, wanted);
  });

  it('puts nothing when the sink wants nothing', async () => {
    const path = await writeTemp(randomBytes(3 * MiB, 15));
    const { sink, puts } = recordingSink(() => false);
    const chunks = await chunkFileAll(path, { sectionSize: MiB, sink });
    expect(chunks.length).toBeGreaterThan(0);
    expect(puts).toEqual([]);
  });

  it('rejects with the sink’s error when a put fails', async () => {
    const path = await writeTemp(randomBytes(3 * MiB, 16));
    const failure = new Error('disk full');
    const sink: ChunkSink = {
      want: async (ids) => ids.map(() => true),
      put: async () => {
        throw failure;
      },
    };
    await expect(chunkFileAll(path, { sectionSize: MiB, sink })).rejects.toBe(failure);
  });

  it('holds the workers back while the sink delays its answer', async () => {
    const path = await writeTemp(randomBytes(2 * MiB, 17));
    let pending = 0;
    let most = 0;
    const sink: ChunkSink = {
      want: async (ids) => {
        pending++;
        most = Math.max(most, pending);
        await new Promise((r) => setTimeout(r, 5));
        pending--;
        return ids.map(() => true);
      },
      put: async () => undefined,
    };
    const chunks = await chunkFileAll(path, {
      sizes: { min: 2 * KiB, avg: 8 * KiB, max: 32 * KiB },
      sink,
      concurrency: 2,
    });
    expect(chunks.length).toBeGreaterThan(0);
    // One question per worker at a time: a worker waits for its answer before reading on.
    expect(most).toBeLessThanOrEqual(2);
  });
});

describe('chunkFile with a sink of chunk files', () => {
  interface Written {
    id: ChunkId;
    frameSize: number;
    size: number;
  }

  /** A sink for a casync-style store directory: the workers write the files themselves. */
  function fileSink(store: string, suffix = '.cacnk') {
    const written: Written[] = [];
    const discarded: ChunkId[] = [];
    let asked = 0;
    const sink: ChunkSink = {
      want: async (ids) => {
        asked++;
        return ids.map(() => true);
      },
      put: async () => {
        throw new Error('no frame should cross threads');
      },
      chunkPath: (id) => join(store, id.slice(0, 4), id + suffix),
      written: (id, frameSize, size) => {
        written.push({ id, frameSize, size });
      },
      discard: (ids) => {
        discarded.push(...ids);
      },
    };
    return { sink, written, discarded, asked: () => asked };
  }

  async function storedIds(store: string, suffix: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (const prefix of await readdir(store).catch(() => [])) {
      for (const f of await readdir(join(store, prefix))) {
        expect(f.endsWith(suffix)).toBe(true);
        out.add(f.slice(0, 64));
      }
    }
    return out;
  }

  it.each([
    ['.cacnk', 1],
    ['.cacnk', 3],
    ['.frame', 2],
  ])(
    'stores only the missing chunks without asking (suffix %s, concurrency %i)',
    async (suffix, concurrency) => {
      // Runs longer than the overlap: some sections are chunked again (strays reported).
      const bytes = bytesWithRuns(12 * MiB, 1536 * KiB, 2);
      const path = await writeTemp(bytes);
      const store = join(dir, `store-${fileCount++}`);
      const serial = serialChunksOf(bytes, DEFAULT_CHUNK_SIZES);
      // The store holds every third chunk already.
      const present = new Set<string>();
      for (let i = 0; i < serial.length; i += 3) {
        const c = serial[i];
        if (present.has(c.id)) continue;
        present.add(c.id);
        await mkdir(join(store, c.id.slice(0, 4)), { recursive: true });
        await writeFile(
          join(store, c.id.slice(0, 4), c.id + suffix),
          codec.compress(bytes.subarray(c.start, c.start + c.size)),
        );
      }
      const { sink, written, discarded, asked } = fileSink(store, suffix);
      const chunks = await chunkFileAll(path, { sectionSize: MiB, concurrency, sink });
      expect(chunks).toEqual(serial);
      expect(asked()).toBe(0);
      const final = new Set(chunks.map((c) => c.id));
      const writtenIds = new Set(written.map((w) => w.id));
      for (const id of present) expect(writtenIds.has(id as ChunkId)).toBe(false);
      for (const id of final) expect(present.has(id) || writtenIds.has(id)).toBe(true);
      // Every chunk file written holds its chunk, and `written` reported its frame's size.
      for (const w of written) {
        const frame = await readFile(join(store, w.id.slice(0, 4), w.id + suffix));
        expect(frame.length).toBe(w.frameSize);
        expect(digestChunk(codec.decompress(frame, w.size, w.size))).toBe(w.id);
      }
      // Chunks written from cuts that were not casync's are reported as strays.
      const strays = new Set(discarded);
      expect([...writtenIds].some((id) => !final.has(id))).toBe(true); // this data has some
      for (const id of writtenIds) if (!final.has(id)) expect(strays.has(id)).toBe(true);
      expect(await storedIds(store, suffix)).toEqual(new Set([...present, ...writtenIds]));
      // Only one worker at concurrency 1: each chunk written once.
      if (concurrency === 1) expect(written.length).toBe(writtenIds.size);

      const again = fileSink(store, suffix);
      expect(await chunkFileAll(path, { sectionSize: MiB, concurrency, sink: again.sink })).toEqual(serial);
      expect(again.written).toEqual([]);
      expect(again.asked()).toBe(0);
    },
  );

  it.each([
    ['one section', 300 * KiB, 1],
    ['several sections', 3 * MiB, 2],
  ])('rejects naming the store when a chunk file cannot be written (%s)', async (_, size, concurrency) => {
    const path = await writeTemp(randomBytes(size, 19));
    // A store below a regular file: every chunk write fails with ENOTDIR.
    const notADir = join(dir, `file-${fileCount++}`);
    await writeFile(notADir, 'x');
    const store = join(notADir, 'store');
    const { sink } = fileSink(store);
    const run = chunkFileAll(path, { sectionSize: MiB, concurrency, sink });
    await expect(run).rejects.toThrow(StoreError);
    await expect(run).rejects.toThrow(
      new RegExp(`^${store}: cannot write chunk [0-9a-f]{64}: a path component`),
    );
  });

  it('asks `want` when the chunk paths do not follow the store layout', async () => {
    const bytes = randomBytes(3 * MiB, 18);
    const path = await writeTemp(bytes);
    const store = join(dir, `store-${fileCount++}`);
    const { sink, written, asked } = fileSink(store);
    // Flat: no 4-digit directories.
    sink.chunkPath = (id) => join(store, `${id}.cacnk`);
    await mkdir(store, { recursive: true });
    const chunks = await chunkFileAll(path, { sectionSize: MiB, concurrency: 2, sink });
    expect(asked()).toBeGreaterThan(0);
    const ids = new Set(written.map((w) => w.id));
    for (const c of chunks) {
      expect(ids.has(c.id)).toBe(true);
      expect(existsSync(join(store, `${c.id}.cacnk`))).toBe(true);
    }
  });
});

describe('prewarmChunkWorkers', () => {
  it('starts workers that a later chunkFile takes and uses', async () => {
    const { prewarmChunkWorkers } = await import('../src/index.js');
    const bytes = bytesWithRuns(3 * MiB, 100 * KiB, 4);
    const path = await writeTemp(bytes);
    prewarmChunkWorkers(2);
    expect(await chunkFileAll(path, { sectionSize: MiB, concurrency: 2 })).toEqual(
      serialChunksOf(bytes, DEFAULT_CHUNK_SIZES),
    );
  });

  it('does not keep a process alive when nothing takes the workers', async () => {
    const { execFile } = await import('node:child_process');
    const entry = new URL('../dist/index.js', import.meta.url).href;
    const script = `import { prewarmChunkWorkers } from ${JSON.stringify(entry)}; prewarmChunkWorkers(2);`;
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
