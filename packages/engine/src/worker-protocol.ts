/** Tasks the engine's worker threads run (see engine-worker.ts). */
export type WorkerTask =
  | {
      /** Decompress (unless `plain`), verify against `id`, and pwrite at every offset of `target`. */
      type: 'write-chunk';
      target: string;
      offsets: number[];
      size: number;
      id: string;
      data: Uint8Array;
      plain: boolean;
      /** The target is a fresh sparse file: all-zero chunks need no write (holes). */
      skipZero: boolean;
      /** The target is a device written in place: offsets already holding the chunk are not written. */
      inPlace?: boolean;
    }
  | {
      /**
       * Extraction of several chunks in one message: for each item, the first source that
       * yields bytes hashing to its id (ranges of existing files, then the stores' chunk
       * files) is placed in one buffer returned as `data`, with `writes` saying where each
       * piece goes; the caller writes them (one writer per file).
       */
      type: 'extract-batch';
      skipZero: boolean;
      /**
       * The device the caller writes in place: an item's offsets where it already holds the
       * chunk's bytes get no write.
       */
      inPlace?: string;
      /** A buffer of an earlier batch, handed back for reuse (fresh memory costs page faults). */
      buffer?: ArrayBuffer;
      items: ExtractItem[];
    }
  | {
      /** Read a range of `source`, hash it and (when `compress`) compress it. */
      type: 'read-chunk';
      source: string;
      offset: number;
      size: number;
      compress: boolean;
    }
  | {
      /** Decompress (unless `plain`) and verify a chunk; with `keepPlain` return the plain bytes. */
      type: 'verify-chunk';
      id: string;
      data: Uint8Array;
      plain: boolean;
      expectedSize?: number;
      keepPlain?: boolean;
    }
  | {
      /** Compress plain chunk bytes into a zstd frame. */
      type: 'compress-chunk';
      data: Uint8Array;
    }
  | {
      /** Close the files this worker holds open (before the pool ends). */
      type: 'close-files';
    };

/** One chunk of an extract-batch task. */
export interface ExtractItem {
  id: string;
  size: number;
  /** Where the chunk goes in the target. */
  offsets: number[];
  /** Ranges of files that may hold the chunk (an existing output, seeds): tried first, verified. */
  copies: { file: string; offset: number }[];
  /** The stores' chunk files, in -s order. */
  paths: string[];
}

/**
 * What became of one ExtractItem: written from copies[copy] or paths[path]; or not found
 * anywhere (`invalid` set when paths[invalid.path] held a corrupt chunk).
 */
export type ExtractOutcome =
  | { done: true; copy?: number; path?: number }
  | { done: false; invalid?: { path: number; message: string } };

export type WorkerResult =
  | {
      ok: true;
      copied?: boolean;
      id?: string;
      frame?: Uint8Array;
      plain?: Uint8Array;
      outcomes?: ExtractOutcome[];
      /** extract-batch: the chunks' bytes, and per piece to write: position in data, size, target offset. */
      data?: Uint8Array;
      writes?: Float64Array;
      /** extract-batch: reads of chunk files that waited for the disk (see ChunkReadAhead). */
      slowReads?: number;
    }
  | {
      ok: false;
      kind: 'invalid' | 'io' | 'missing';
      message: string;
      code?: string;
      /** extract-batch: reading this chunk from the store at this position of `paths` failed. */
      storeRead?: { chunk: string; path: number };
    };

export interface WorkerRequest {
  seq: number;
  task: WorkerTask;
}

export interface WorkerResponse {
  seq: number;
  result: WorkerResult;
}

/**
 * Posted once by a worker when its codec and hasher are loaded: a launcher that changes V8
 * flags waits for it (see apps/cli/bin/run.js). Pools ignore it.
 */
export interface WorkerReady {
  type: 'ready';
}
