import { Worker } from 'node:worker_threads';
import { workerScriptUrl } from '@desync/chunker';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../src/worker-pool.js';

describe('engine workers', () => {
  it('say they are ready once their codec and hasher are loaded, before any task', async () => {
    const url = workerScriptUrl(new URL('../src/worker-pool.ts', import.meta.url).href, 'engine-worker.js');
    const worker = new Worker(url);
    try {
      const first = await new Promise((resolve) => worker.once('message', resolve));
      expect(first).toEqual({ type: 'ready' });
    } finally {
      await worker.terminate();
    }
  });

  it('run tasks in a pool after saying so (the pool takes it for no answer)', async () => {
    const pool = new WorkerPool(2);
    try {
      // Give the ready messages time to arrive before the tasks' answers.
      await new Promise((r) => setTimeout(r, 300));
      const data = new TextEncoder().encode('some bytes');
      const results = await Promise.all(
        [1, 2, 3, 4].map(() => pool.run({ type: 'compress-chunk', data: data.slice() })),
      );
      for (const r of results) expect(r.ok && r.frame && r.frame.length > 0).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
