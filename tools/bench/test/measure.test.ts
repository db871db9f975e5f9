import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { measureCommand, measuredEnvironment } from '../src/measure.js';

describe('measured commands', () => {
  let dir: string;
  const saved = process.env.NODE_EXTRA_CA_CERTS;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-measure-'));
    process.env.NODE_EXTRA_CA_CERTS = '/nonexistent/ca.pem';
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it('run without NODE_EXTRA_CA_CERTS, with the rest of the environment and the extras', () => {
    process.env.BENCH_TEST_KEPT = 'kept';
    const env = measuredEnvironment({ EXTRA: 'x' });
    delete process.env.BENCH_TEST_KEPT;
    expect(env.NODE_EXTRA_CA_CERTS).toBeUndefined();
    expect(env.BENCH_TEST_KEPT).toBe('kept');
    expect(env.EXTRA).toBe('x');
    expect(measuredEnvironment({ NODE_EXTRA_CA_CERTS: 'a' }).NODE_EXTRA_CA_CERTS).toBeUndefined();
  });

  it('see that environment', async () => {
    // A command that fails when the variable reaches it or the extra does not.
    await expect(
      measureCommand('sh', ['-c', 'test -z "$NODE_EXTRA_CA_CERTS" && test "$EXTRA" = x'], {
        method: 'wall-only',
        label: 'env check',
        scratchDir: dir,
        env: { EXTRA: 'x' },
      }),
    ).resolves.toMatchObject({ wallSeconds: expect.any(Number) });
  });
});
