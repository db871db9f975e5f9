import { InvalidArgument, type StoreScheme } from '@desync/core';

/** The registry entry for `http://` and `https://` stores. */
export const httpStoreScheme: StoreScheme = {
  name: 'http',
  matches: (location) => /^https?:\/\//i.test(location),
  open: (location) => {
    throw new InvalidArgument(`HTTP stores are not available yet: ${location}`);
  },
};
