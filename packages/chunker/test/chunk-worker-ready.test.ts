import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { workerScriptUrl } from '../src/worker-url.js';

describe('chunk workers', () => {
  it('say they are ready once their codec, hasher and boundary scanner are loaded', async () => {
    const worker = new Worker(workerScriptUrl(import.meta.url, 'chunk-worker.js'));
    try {
      const first = await new Promise((resolve) => worker.once('message', resolve));
      expect(first).toEqual({ type: 'ready' });
    } finally {
      await worker.terminate();
    }
  });
});
