import { InvalidArgument, type StoreScheme } from '@desync/core';

/** The registry entry for `s3+http://` and `s3+https://` stores. */
export const s3StoreScheme: StoreScheme = {
  name: 's3',
  matches: (location) => /^s3\+https?:\/\//i.test(location),
  open: (location) => {
    throw new InvalidArgument(`S3 stores are not available yet: ${location}`);
  },
};
