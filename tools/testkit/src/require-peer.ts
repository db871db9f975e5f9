import { PeerMissing } from './errors.js';
import { findExecutable, isExecutable } from './find-executable.js';

/**
 * Decides whether a test that needs a peer binary runs. Returns `path` when it is executable.
 * When it is not: in CI (`process.env.CI === 'true'`) throws PeerMissing, because a silent skip
 * there would let the interop tests rot; elsewhere returns undefined so the test can skip.
 *
 * ```ts
 * const casync = requirePeer('casync', findCasync());
 * describe.skipIf(!casync)('casync interop', () => { … });
 * ```
 * @throws PeerMissing when the peer is missing and CI is true.
 */
export function requirePeer(name: string, path: string | undefined): string | undefined {
  if (path !== undefined && isExecutable(path)) return path;
  if (process.env.CI === 'true') throw new PeerMissing(name, path);
  return undefined;
}

/**
 * requirePeer for a module's top level: instead of throwing while the test file loads (which
 * reports as a broken file), returns the PeerMissing so a test can fail with it in CI.
 *
 * ```ts
 * const { path: fusermount, missingInCi } = lookUpPeer('fusermount', findFusermount());
 * it.runIf(missingInCi !== undefined)('has fusermount when CI=true', () => { throw missingInCi; });
 * ```
 */
export function lookUpPeer(name: string, path: string | undefined): { path?: string; missingInCi?: Error } {
  try {
    const found = requirePeer(name, path);
    return found === undefined ? {} : { path: found };
  } catch (err) {
    return { missingInCi: err as Error };
  }
}

/** libfuse's unmount helper: fusermount3 (libfuse 3) or fusermount (libfuse 2). */
export function findFusermount(): string | undefined {
  return findExecutable('fusermount3') ?? findExecutable('fusermount');
}
