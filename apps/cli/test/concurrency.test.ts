import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXIT_CODES } from '@desync/core';
import {
  cliBinPath,
  generateMixed,
  makeTempDir,
  removeTempDir,
  writeMixedFile,
  writeRandomFile,
} from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkPath, desyncOk, expectOneLineError, listFiles, parseCaibx, storeIds } from './helpers.js';

interface DesyncExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

const MiB = 1024 * 1024;

describe('concurrency and atomicity', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('desync-concurrency-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('lets two make processes write into one store at once, leaving it complete and valid', async () => {
    const store = join(dir, 'store');
    // Two files sharing most of their chunks, so both processes race to store the same ones.
    const shared = Buffer.concat([...generateMixed(6 * MiB, 71)]);
    const files = {
      a: Buffer.concat([shared, Buffer.from('tail of a')]),
      b: Buffer.concat([Buffer.from('head of b'), shared]),
    };
    for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
    await Promise.all(
      Object.keys(files).map((name) =>
        desyncOk(['make', '-s', store, join(dir, `${name}.caibx`), join(dir, name)]),
      ),
    );
    const { stdout } = await desyncOk(['verify', '-s', store]);
    expect(stdout.toString()).toMatch(/ 0 invalid, 0 removed\n$/);
    const referenced = new Set<string>();
    for (const name of Object.keys(files)) {
      for (const c of (await parseCaibx(join(dir, `${name}.caibx`))).chunks) referenced.add(c.id);
    }
    expect(await storeIds(store)).toEqual([...referenced].sort());
    for (const [name, data] of Object.entries(files)) {
      const out = join(dir, `${name}.out`);
      await desyncOk(['extract', '-s', store, join(dir, `${name}.caibx`), out]);
      expect((await readFile(out)).equals(data)).toBe(true);
    }
  });

  it('removes its temporary index and exits with one line when make gets SIGINT', async () => {
    const input = join(dir, 'input');
    const indexDir = join(dir, 'indexes');
    const store = join(dir, 'store');
    // Large enough, on one worker thread, that make is still running when the signal comes
    // (32 MiB took under a tenth of a second once the chunker ran as WebAssembly).
    await writeMixedFile(input, 160 * MiB, 73);
    await mkdir(indexDir);
    const child = spawn(
      process.execPath,
      [cliBinPath(), 'make', '-n', '1', '-s', store, join(indexDir, 'x.caibx'), input],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, DESYNC_DEBUG: undefined },
      },
    );
    let stderr = '';
    child.stderr?.on('data', (piece: Buffer) => {
      stderr += piece.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // The index is written under a temporary name from the start; chunking takes seconds more.
    const deadline = Date.now() + 30_000;
    while ((await readdir(indexDir)).length === 0) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`make did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(EXIT_CODES.ABORTED);
    expect(stderr).toBe('desync: aborted\n');
    expect(await readdir(indexDir)).toEqual([]);
    expect((await listFiles(store)).filter((f) => !f.endsWith('.cacnk'))).toEqual([]);
  });

  describe('an extract stopped midway', () => {
    let store: string;
    let index: string;
    let outDir: string;
    let fifo: string;
    let frame: Buffer;

    beforeEach(async () => {
      const input = join(dir, 'input');
      index = join(dir, 'input.caibx');
      store = join(dir, 'store');
      outDir = join(dir, 'out');
      await writeRandomFile(input, 8 * MiB, 72);
      await desyncOk(['make', '-s', store, index, input]);
      await mkdir(outDir);
      // A named pipe in place of a chunk file: reading it blocks until the test writes to it,
      // so the extract is reliably caught halfway, with earlier chunks already written.
      // The pipe gets the real chunk later, in one write that must fit the pipe buffer (64 KiB).
      const { chunks } = await parseCaibx(index);
      const middle = Math.floor(chunks.length / 2);
      for (const c of [...chunks.slice(middle), ...chunks.slice(0, middle).reverse()]) {
        frame = await readFile(chunkPath(store, c.id));
        fifo = chunkPath(store, c.id);
        if (frame.length < 60_000) break;
      }
      expect(frame.length).toBeLessThan(60_000);
      await unlink(fifo);
      await promisify(execFile)('mkfifo', [fifo]);
    });

    /** Starts `extract -n 1` and resolves once its temporary output holds data. */
    async function startExtract(): Promise<{ child: ChildProcess; exited: Promise<DesyncExit> }> {
      const child = spawn(
        process.execPath,
        [cliBinPath(), 'extract', '-n', '1', '-s', store, index, join(outDir, 'blob')],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, DESYNC_DEBUG: undefined },
        },
      );
      let stderr = '';
      child.stderr?.on('data', (piece: Buffer) => {
        stderr += piece.toString();
      });
      const exited = new Promise<DesyncExit>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal, stderr })),
      );
      const deadline = Date.now() + 30_000;
      for (;;) {
        const names = await readdir(outDir);
        const sizes = await Promise.all(names.map((n) => stat(join(outDir, n)).then((s) => s.blocks)));
        if (sizes.some((blocks) => blocks > 0)) break;
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`extract did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return { child, exited };
    }

    it('leaves no output file when killed with SIGKILL', async () => {
      const { child, exited } = await startExtract();
      child.kill('SIGKILL');
      expect((await exited).signal).toBe('SIGKILL');
      expect(await readdir(outDir)).not.toContain('blob');
    });

    it('removes its temporary file and exits with one line on SIGINT', async () => {
      const { child, exited } = await startExtract();
      child.kill('SIGINT');
      // Let the blocked read finish (O_NONBLOCK: never wait for a reader that is gone).
      await new Promise((r) => setTimeout(r, 200));
      // A reader that checks the abort as soon as the pipe opens closes it at once, so a failed
      // write (EPIPE) is fine; one that does not gets a valid chunk and stops before the next.
      const pipe = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
      await pipe?.write(frame).catch(() => undefined);
      await pipe?.close();
      // Usually `desync: aborted` (130); a reader that treats the pipe as an empty file reports
      // that chunk instead. Either way: one line, and nothing left behind.
      const result = await exited;
      expectOneLineError({ ...result, stdout: Buffer.alloc(0) });
      expect(await readdir(outDir)).toEqual([]);
    });
  });
});
