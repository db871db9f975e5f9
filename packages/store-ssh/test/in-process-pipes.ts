import { PassThrough } from 'node:stream';
import type { Store } from '@desync/core';
import type { RemotePipes } from '../src/pull-session.js';
import { type ServePullOptions, servePull } from '../src/serve-pull.js';

/**
 * Pipes to a servePull of `store` (and of `options.index`) running in this process, as a
 * `pull` over ssh would be.
 */
export function inProcessPipes(
  store: Store | undefined,
  options: Pick<ServePullOptions, 'index'> = {},
): RemotePipes & { served: Promise<unknown> } {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const served = servePull(store, toServer, toClient, { peer: 'in-process client', ...options }).then(
    () => undefined,
    (err: unknown) => err,
  );
  return {
    stdout: toClient,
    stdin: toServer,
    served,
    stderrTail: () => '',
    settle: async () => {},
    close: () => {
      toServer.end();
    },
  };
}
