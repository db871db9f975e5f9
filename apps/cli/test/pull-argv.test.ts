import { describe, expect, it } from 'vitest';
import { runDesync } from './helpers.js';

// casync starts its remote as `desync --rate-limit-bps=N pull - - - PATH` when the user
// gives a rate limit: flags before `pull` must be accepted.
describe('pull argv as casync sends it', () => {
  it('accepts flags before the pull command', async () => {
    const r = await runDesync(['--rate-limit-bps=1000', 'pull', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain('pull - - INDEX|- STORE|-');
  });
});
