import { PeerMissing } from './errors.js';
import { isExecutable } from './find-executable.js';

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
