import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { makeTempDir } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desyncOk, runDesync } from './helpers.js';

// Node >= 22.1 caches the bundle's compiled code itself; Node 20 runs it from the V8 code cache
// bin/load-cli.js keeps under $XDG_CACHE_HOME/desync/code-cache.
const handMade = !('enableCompileCache' in nodeModule);

describe('start-up from compiled code', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cacheDir = (): string => join(home, 'desync', 'code-cache');
  const cacheFiles = async (): Promise<string[]> => (await readdir(cacheDir()).catch(() => [])).sort();

  beforeEach(async () => {
    home = await makeTempDir('desync-code-cache-');
    env = { XDG_CACHE_HOME: home };
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('answers the same from the cache as without it, addons and lazy imports included', async () => {
    const first = (await desyncOk(['--version'], { env })).stdout.toString();
    const second = (await desyncOk(['--version'], { env })).stdout.toString();
    expect(second).toBe(first);
    const plain = await desyncOk(['--version'], { env: { ...env, NODE_DISABLE_COMPILE_CACHE: '1' } });
    expect(plain.stdout.toString()).toBe(first);
  });

  it('archives a tree the same from the cache (the xattr and inode-flag addons load lazily)', async () => {
    const tree = join(home, 'tree');
    await mkdir(tree);
    await writeFile(join(tree, 'a.txt'), 'some bytes\n');
    const runs = [];
    for (const name of ['first.catar', 'second.catar']) {
      const r = await desyncOk(['tar', join(home, name), tree], { env });
      runs.push({ stderr: r.stderr, bytes: await readFile(join(home, name)) });
    }
    expect(runs[1]?.stderr).toBe(runs[0]?.stderr);
    expect(runs[1]?.bytes.equals(runs[0]?.bytes as Buffer)).toBe(true);
  });

  it.runIf(handMade)('keeps one cache file per command, written once', async () => {
    await desyncOk(['--version'], { env });
    expect(await cacheFiles()).toHaveLength(1);
    await desyncOk(['config'], { env });
    const files = await cacheFiles();
    expect(files).toHaveLength(2);
    const before = await readFile(join(cacheDir(), files[0] as string));
    await desyncOk(['--version'], { env });
    await desyncOk(['config'], { env });
    expect(await cacheFiles()).toEqual(files);
    expect((await readFile(join(cacheDir(), files[0] as string))).equals(before)).toBe(true);
  });

  it.runIf(handMade)('gives a mistyped command no cache file of its own', async () => {
    await runDesync(['frobnicate'], { env });
    await runDesync(['extarct', 'a', 'b'], { env });
    await desyncOk(['--version'], { env });
    const files = await cacheFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^other-/);
  });

  it.runIf(handMade)(
    'keeps using the caches of make and extract, which change V8 flags (no rewrite each run)',
    async () => {
      const input = join(home, 'input');
      // Large enough that the tiers are capped while the command still runs (about 0.1 s in).
      await writeFile(input, randomBytes(24 * 1024 * 1024));
      const make = () => desyncOk(['make', '-s', join(home, 'store'), join(home, 'x.caibx'), input], { env });
      await make();
      const makeCache = (await cacheFiles()).find((f) => f.startsWith('make-'));
      expect(makeCache).toBeDefined();
      const makeTime = (await stat(join(cacheDir(), makeCache as string))).mtimeMs;
      await make();
      await make();
      expect((await stat(join(cacheDir(), makeCache as string))).mtimeMs).toBe(makeTime);
      const extract = () =>
        desyncOk(['extract', '-s', join(home, 'store'), join(home, 'x.caibx'), join(home, 'out')], { env });
      await extract();
      const files = await cacheFiles();
      const extractCache = files.find((f) => f.startsWith('extract-'));
      expect(extractCache).toBeDefined();
      const { mtimeMs } = await stat(join(cacheDir(), extractCache as string));
      // The second run caps V8's tiers once its workers are up: neither it nor the next rewrites.
      await extract();
      await extract();
      expect(await cacheFiles()).toEqual(files);
      expect((await stat(join(cacheDir(), extractCache as string))).mtimeMs).toBe(mtimeMs);
    },
  );

  it.runIf(handMade)('replaces the cache files of older builds of the same command', async () => {
    await mkdir(cacheDir(), { recursive: true });
    const older = `config-${process.version}-0123456789abcdef0123456789abcdef.bin`;
    const otherNode = 'config-v0.0.1-0123456789abcdef0123456789abcdef.bin';
    const otherCommand = `make-${process.version}-0123456789abcdef0123456789abcdef.bin`;
    for (const f of [older, otherNode, otherCommand]) await writeFile(join(cacheDir(), f), 'old');
    await desyncOk(['config'], { env });
    const files = await cacheFiles();
    expect(files).not.toContain(older);
    expect(files).toContain(otherNode);
    expect(files).toContain(otherCommand);
    expect(files.filter((f) => f.startsWith(`config-${process.version}-`))).toHaveLength(1);
  });

  it.runIf(handMade)('starts from source when the cache file is damaged, and writes it anew', async () => {
    await desyncOk(['--version'], { env });
    const [file] = await cacheFiles();
    const path = join(cacheDir(), file as string);
    const good = await readFile(path);
    // Bytes flipped inside the V8 data: V8 itself would not notice, and crash.
    const bad = Buffer.from(good);
    for (let i = 64; i < bad.length; i += 4099) bad[i] = (bad[i] as number) ^ 0x5a;
    await writeFile(path, bad);
    const r = await desyncOk(['--version'], { env });
    expect(r.stdout.toString()).toMatch(/^desync\//);
    expect((await readFile(path)).equals(bad)).toBe(false);
    await writeFile(path, 'short');
    expect((await desyncOk(['--version'], { env })).stdout.toString()).toMatch(/^desync\//);
  });

  it('works when no cache can be written', async () => {
    await writeFile(join(home, 'desync'), 'a file where the cache directory would go');
    const r = await desyncOk(['--version'], { env });
    expect(r.stdout.toString()).toMatch(/^desync\//);
    expect(r.stderr).toBe('');
  });
});
