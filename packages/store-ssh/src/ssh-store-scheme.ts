import type { StoreScheme } from '@desync/core';
import { isSshLocation } from './ssh-location.js';

/**
 * The registry entry for `ssh://[user@]host[:port]/path` and casync's `[user@]host:path`
 * (a colon before the first slash). Honours `concurrency`, `timeoutMs` and
 * `sshSkipHostKeyCheck`; CASYNC_SSH_PATH and CASYNC_REMOTE_PATH are read from the environment.
 * `readFile` pulls an index file with casync's protocol (`casync pull - - PATH -`).
 * ssh2 is loaded only when a store is opened: importing the scheme (`@desync/store-ssh/scheme`)
 * costs a command that never uses ssh nothing.
 */
export const sshStoreScheme: StoreScheme = {
  name: 'ssh',
  matches: isSshLocation,
  open: async (location, options) => {
    const { SshStore } = await import('./ssh-store.js');
    return new SshStore({
      location,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.sshSkipHostKeyCheck !== undefined ? { skipHostKeyCheck: options.sshSkipHostKeyCheck } : {}),
    });
  },
  readFile: async (location, options) => {
    const { readSshIndex } = await import('./ssh-index.js');
    return readSshIndex({
      location,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.sshSkipHostKeyCheck !== undefined ? { skipHostKeyCheck: options.sshSkipHostKeyCheck } : {}),
    });
  },
};
