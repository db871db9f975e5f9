import type { StoreScheme } from '@desync/core';
import { isSshLocation } from './ssh-location.js';
import { SshStore } from './ssh-store.js';

/**
 * The registry entry for `ssh://[user@]host[:port]/path` and casync's `[user@]host:path`
 * (a colon before the first slash). Honours `concurrency`, `timeoutMs` and
 * `sshSkipHostKeyCheck`; CASYNC_SSH_PATH and CASYNC_REMOTE_PATH are read from the environment.
 */
export const sshStoreScheme: StoreScheme = {
  name: 'ssh',
  matches: isSshLocation,
  open: (location, options) =>
    new SshStore({
      location,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.sshSkipHostKeyCheck !== undefined ? { skipHostKeyCheck: options.sshSkipHostKeyCheck } : {}),
    }),
};
