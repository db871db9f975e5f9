import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What a chunk store holds after a run. */
export interface StoreStats {
  /** Number of chunk files (`*.cacnk`, casync's layout). */
  chunks: number;
  /** Sum of the sizes of all files in the store, in bytes. */
  bytes: number;
}

/** Walks a local chunk store directory and counts its chunks and bytes. */
export async function storeStats(dir: string): Promise<StoreStats> {
  const stats: StoreStats = { chunks: 0, bytes: 0 };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    stats.bytes += (await stat(path)).size;
    if (entry.name.endsWith('.cacnk')) stats.chunks++;
  }
  return stats;
}
