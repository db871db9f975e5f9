import { existsSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CasyncFailed,
  CliMissing,
  cliBinPath,
  findCasync,
  findExecutable,
  hashFile,
  PeerMissing,
  repoRoot,
  requirePeer,
  runCasync,
  runCli,
  withTempDir,
  writeMixedFile,
} from '../src/index.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('requirePeer', () => {
  it('returns the path of a peer that is executable', () => {
    expect(requirePeer('node', process.execPath)).toBe(process.execPath);
  });

  it('returns undefined for a missing peer outside CI, so the test can skip', () => {
    vi.stubEnv('CI', '');
    expect(requirePeer('nope', undefined)).toBeUndefined();
    expect(requirePeer('nope', '/nonexistent/nope')).toBeUndefined();
  });

  it('throws PeerMissing for a missing peer in CI, never skipping silently', () => {
    vi.stubEnv('CI', 'true');
    expect(() => requirePeer('casync', undefined)).toThrow(PeerMissing);
    expect(() => requirePeer('casync', '/nonexistent/casync')).toThrow(/casync is missing/);
  });
});

describe('findExecutable', () => {
  it('finds node on PATH like which, and nothing for an unknown name', () => {
    vi.stubEnv('PATH', `/nonexistent:${join(process.execPath, '..')}`);
    expect(findExecutable('node')).toBe(process.execPath);
    expect(findExecutable('no-such-binary-desync')).toBeUndefined();
  });
});

describe('withTempDir', () => {
  it('removes the directory afterwards, even when the callback throws', async () => {
    let kept = '';
    await expect(
      withTempDir(async (dir) => {
        kept = dir;
        await writeFile(join(dir, 'f'), 'x');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(kept)).toBe(false);
  });
});

describe('runCasync', () => {
  const casync = requirePeer('casync', findCasync());

  it.skipIf(!casync)('round-trips a mixed file through casync make and extract', async () => {
    await withTempDir(async (dir) => {
      const input = join(dir, 'in.bin');
      await writeMixedFile(input, 3 << 20, 5);
      const made = await runCasync([
        'make',
        `--store=${join(dir, 'store.castr')}`,
        join(dir, 'i.caibx'),
        input,
      ]);
      expect(made.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
      await runCasync([
        'extract',
        `--store=${join(dir, 'store.castr')}`,
        join(dir, 'i.caibx'),
        join(dir, 'out.bin'),
      ]);
      expect((await stat(join(dir, 'out.bin'))).size).toBe(3 << 20);
      expect(await hashFile(join(dir, 'out.bin'))).toBe(await hashFile(input));
    });
  });

  it.skipIf(!casync)('rejects with CasyncFailed whose message carries stderr', async () => {
    await withTempDir(async (dir) => {
      const failure = runCasync(['extract', `--store=${dir}/none.castr`, `${dir}/missing.caibx`, `${dir}/o`]);
      await expect(failure).rejects.toBeInstanceOf(CasyncFailed);
      await expect(failure).rejects.toThrow(/missing\.caibx|No such file/);
    });
  });
});

describe('runCli', () => {
  it('locates the CLI entry from the repo root', () => {
    expect(existsSync(join(repoRoot(), 'pnpm-workspace.yaml'))).toBe(true);
    expect(cliBinPath()).toBe(join(repoRoot(), 'apps/cli/bin/run.js'));
  });

  it.skipIf(existsSync(cliBinPath()))('rejects with CliMissing until the CLI is built', async () => {
    await expect(runCli(['--help'])).rejects.toBeInstanceOf(CliMissing);
  });

  it.skipIf(!existsSync(cliBinPath()))('reports a failing command as a result, not a throw', async () => {
    const result = await runCli(['no-such-command-desync']);
    expect(result.code).not.toBe(0);
    expect(result.signal).toBeNull();
  });
});
