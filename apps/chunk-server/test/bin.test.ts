import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Chunk } from '@desync/core';
import { LocalStore } from '@desync/store-local';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/chunk-server.js', import.meta.url));

let dir: string;
let chunk: Chunk;

beforeAll(async () => {
  dir = await makeTempDir('chunk-server-bin-');
  chunk = Chunk.fromPlain(new TextEncoder().encode('served by the binary'));
  await new LocalStore({ path: dir }).storeChunk(chunk);
});

afterAll(async () => {
  await removeTempDir(dir);
});

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (piece: Buffer) => (stderr += piece.toString('utf8')));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, exited, stderr: () => stderr };
}

describe('desync-chunk-server binary', () => {
  it('serves -s on -l until SIGTERM, then exits 0', async () => {
    const server = run(['-s', dir, '-l', '127.0.0.1:0', '--auth', 'tok']);
    const url = await new Promise<string>((resolve, reject) => {
      server.child.stderr.on('data', () => {
        const match = /serving chunks on (\S+)/.exec(server.stderr());
        if (match) resolve(match[1]);
      });
      server.exited.then(() => reject(new Error(server.stderr())));
    });
    const chunkUrl = new URL(`${chunk.id.slice(0, 4)}/${chunk.id}.cacnk`, url);
    expect((await fetch(chunkUrl)).status).toBe(401);
    expect((await fetch(chunkUrl, { headers: { authorization: 'Bearer tok' } })).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual([0, null]);
  });

  it('rejects bad flags with one line and exit status 2', async () => {
    for (const args of [['--bogus'], ['-l', '127.0.0.1:0'], ['-s', dir, '-l', 'nohost']]) {
      const result = run(args);
      const [code] = await result.exited;
      expect(code, args.join(' ')).toBe(2);
      expect(result.stderr()).toMatch(/^desync-chunk-server: /);
    }
  });
});
