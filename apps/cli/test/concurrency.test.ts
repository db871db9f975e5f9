import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliBinPath, generateMixed, makeTempDir, removeTempDir, writeRandomFile } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desyncOk, parseCaibx, storeIds } from './helpers.js';

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

  it('leaves no output file when extract is killed midway', async () => {
    const input = join(dir, 'input');
    const index = join(dir, 'input.caibx');
    const store = join(dir, 'store');
    const outDir = join(dir, 'out');
    const out = join(outDir, 'blob');
    await writeRandomFile(input, 48 * MiB, 72);
    await desyncOk(['make', '-s', store, index, input]);
    await mkdir(outDir);

    // One chunk at a time keeps the extract slow enough to be caught in the middle.
    const child = spawn(process.execPath, [cliBinPath(), 'extract', '-n', '1', '-s', store, index, out], {
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    // Wait until it has begun writing: its temporary file exists beside the output and has data.
    const deadline = Date.now() + 30_000;
    let started = false;
    while (!started && Date.now() < deadline && child.exitCode === null) {
      for (const name of await readdir(outDir)) {
        const s = await stat(join(outDir, name)).catch(() => undefined);
        if (name !== 'blob' && s && s.blocks > 0) started = true;
      }
      if (!started) await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(started).toBe(true);
    expect(await readdir(outDir)).not.toContain('blob');
  });
});
