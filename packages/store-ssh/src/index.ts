import { InvalidArgument, type StoreScheme } from '@desync/core';

/** The registry entry for `ssh://` stores and casync's `[user@]host:/path` form. */
export const sshStoreScheme: StoreScheme = {
  name: 'ssh',
  matches: (location) => /^ssh:\/\//i.test(location),
  open: (location) => {
    throw new InvalidArgument(`SSH stores are not available yet: ${location}`);
  },
};
