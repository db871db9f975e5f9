import { sep } from 'node:path';
import type { ChunkSizes } from './chunk-sizes.js';

/**
 * How a local file store names its chunk files: `<dir>/<first 4 hex of the id>/<id><suffix>`
 * (casync's layout; suffix `.cacnk`). The main thread derives it from the sink's chunkPath
 * and checks that chunkFilePath reproduces that exactly (see chunkFileLayoutOf).
 */
export interface ChunkFileLayout {
  dir: string;
  suffix: string;
}

/** The file of chunk `id` (64 lowercase hex digits) under `layout`. */
export function chunkFilePath(layout: ChunkFileLayout, id: string): string {
  return `${layout.dir}${sep}${id.slice(0, 4)}${sep}${id}${layout.suffix}`;
}

/** Main → worker: chunk one section of a file. */
export interface SectionTask {
  type: 'section';
  taskId: number;
  path: string;
  /** File offset where a chunk is assumed to start. */
  start: number;
  /** Chunks that start before this offset (plus `overlap`) are reported. */
  end: number;
  overlap: number;
  sizes: ChunkSizes;
  hash: boolean;
  /** Chunks starting at or after this offset are offered to the sink (Infinity: none). */
  storeFrom: number;
  /**
   * For a sink of local chunk files: the worker itself stores the chunks from storeFrom on
   * whose files are missing (no `want` round trip), and reports them in `written`.
   */
  chunkFiles?: ChunkFileLayout;
  /**
   * Shared with the main thread, which sets element 0 when the run has failed or was
   * aborted: the worker stops between chunk writes, so it leaves no temporary file behind.
   */
  stop?: Int32Array;
}

/** Main → worker: which of the offered chunks to compress and send. */
export interface WantReply {
  type: 'want-reply';
  queryId: number;
  wanted: boolean[];
  /** For wanted chunks: a file to write the frame to (atomically) instead of sending it. */
  paths?: (string | null)[];
}

export type ToWorker = SectionTask | WantReply;

/** Worker → main. */
export type FromWorker =
  /**
   * Once, when the worker's codec, hasher and boundary scanner are loaded: a launcher that
   * changes V8 flags waits for it (see apps/cli/bin/run.js). Pools ignore it.
   */
  | { type: 'ready' }
  | { type: 'want'; taskId: number; queryId: number; ids: string[] }
  | { type: 'frames'; taskId: number; ids: string[]; frames: Uint8Array[]; sizes: number[] }
  | { type: 'written'; taskId: number; ids: string[]; frameSizes: number[]; sizes: number[] }
  | { type: 'progress'; taskId: number; bytes: number }
  | {
      type: 'done';
      taskId: number;
      starts: Float64Array;
      sizes: Float64Array;
      /** 32 bytes per chunk, or empty when not hashing. */
      ids: Uint8Array;
    }
  | {
      type: 'error';
      taskId: number;
      message: string;
      code?: string;
      /** Set when writing a chunk file failed: the error is the store's, not the input's. */
      chunkFile?: string;
      chunk?: string;
    };
