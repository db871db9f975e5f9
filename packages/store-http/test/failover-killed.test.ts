import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, runCli, writeMixedFile } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkStoreServer, startChunkStoreServer } from './chunk-store-server.js';

// A failover group of two mirrors (`-s "A|B"`): A dies in the middle of an extract (its
// process would be gone: connections reset, nothing listens), and the extract completes
// from B. These run the built CLI.
const MiB = 1024 * 1024;

describe('failover group with a mirror killed mid-run', () => {
  let dir: string;
  let input: string;
  let index: string;
  let a: ChunkStoreServer;
  let b: ChunkStoreServer;

  beforeAll(async () => {
    dir = await makeTempDir('desync-failover-killed-');
    input = join(dir, 'input.bin');
    index = join(dir, 'input.caibx');
    await writeMixedFile(input, 4 * MiB, 21);
    expect((await runCli(['make', '-s', join(dir, 'store'), index, input])).code).toBe(0);
    let killed = false;
    a = await startChunkStoreServer({
      dir: join(dir, 'store'),
      // After 15 chunks, A goes away: this and every later request dies with the server.
      intercept: (_req, res, n) => {
        if (n < 15) return false;
        if (!killed) {
          killed = true;
          void a.close();
        }
        res.socket?.destroy();
        return true;
      },
    });
    b = await startChunkStoreServer({ dir: join(dir, 'store') });
  });
  afterAll(async () => {
    await a.close().catch(() => undefined);
    await b.close();
    await removeTempDir(dir);
  });

  it('extract completes from the second mirror, byte for byte', async () => {
    const out = join(dir, 'out.bin');
    const r = await runCli(['extract', '-n', '4', '-s', `${a.url}|${b.url}`, index, out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Buffer.compare(await readFile(out), await readFile(input))).toBe(0);
    expect(a.requests.length).toBeGreaterThanOrEqual(15);
    expect(b.requests.length).toBeGreaterThan(0);
  });
});
