/** Tasks the engine's worker threads run (see engine-worker.ts). */
export type WorkerTask =
  | {
      /** Decompress (unless `plain`), verify against `id`, and pwrite at `offset` of `target`. */
      type: 'write-chunk';
      target: string;
      offset: number;
      size: number;
      id: string;
      data: Uint8Array;
      plain: boolean;
      /** The target is a fresh sparse file: all-zero chunks need no write (holes). */
      skipZero: boolean;
    }
  | {
      /**
       * Like write-chunk, but the worker reads the chunk itself from the first of `paths`
       * that exists (the stores' chunk files, in -s order).
       */
      type: 'write-chunk-from-files';
      paths: string[];
      target: string;
      offset: number;
      size: number;
      id: string;
      skipZero: boolean;
    }
  | {
      /** Read [offset, offset+size) of `source`; if it hashes to `id`, pwrite it at `targetOffset` of `target`. */
      type: 'copy-range';
      source: string;
      offset: number;
      size: number;
      id: string;
      target: string;
      targetOffset: number;
      skipZero: boolean;
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

export type WorkerResult =
  | { ok: true; copied?: boolean; id?: string; frame?: Uint8Array; plain?: Uint8Array; source?: number }
  | {
      ok: false;
      kind: 'invalid' | 'io' | 'missing';
      message: string;
      code?: string;
      /** For write-chunk-from-files: which of the paths failed. */
      source?: number;
    };

export interface WorkerRequest {
  seq: number;
  task: WorkerTask;
}

export interface WorkerResponse {
  seq: number;
  result: WorkerResult;
}
