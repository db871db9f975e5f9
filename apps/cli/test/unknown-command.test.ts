import { EXIT_CODES } from '@desync/core';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, runDesync } from './helpers.js';

describe('an unknown command', () => {
  it('is one line naming it, and exit status 2', async () => {
    const r = await runDesync(['frobnicate', 'x']);
    expect(r.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expectOneLineError(r, ["'frobnicate'", 'desync --help']);
  });
});
