import { fileURLToPath } from 'node:url';
import { InvalidArgument, type StoreScheme } from '@desync/core';
import { LocalStore } from './local-store.js';

/** `scheme://` as URLs start (RFC 3986 section 3.1), e.g. `http://`, `s3+https://`. */
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** A Windows drive path, `C:\store` or `C:/store`. */
const DRIVE_PATH = /^[a-z]:[\\/]/i;

function isLocalLocation(location: string): boolean {
  if (location === '') return false;
  if (/^file:\/\//i.test(location)) return true;
  if (URL_SCHEME.test(location)) return false;
  if (process.platform === 'win32' && DRIVE_PATH.test(location)) return true;
  // casync cautil.c ca_classify_locator: `host:path` and `user@host:path` are ssh
  // locations, so a colon before the first slash is not a local path.
  const colon = location.indexOf(':');
  const slash = location.search(/[\\/]/);
  return colon === -1 || (slash !== -1 && slash < colon);
}

function pathOf(location: string): string {
  if (!/^file:/i.test(location)) return location;
  try {
    return fileURLToPath(location);
  } catch (err) {
    throw new InvalidArgument(`'${location}' is not a local file URL; use file:///absolute/path`, {
      cause: err,
    });
  }
}

/**
 * The registry entry for local stores: plain paths (`store`, `./store`, `/srv/store`) and
 * `file:///srv/store` URLs. URLs of other schemes (`http://`, `ssh://`, `s3+https://`) and
 * casync's ssh syntax `host:/path` (a colon before the first slash) are left to other
 * adapters. Register it with `registerStoreScheme(localStoreScheme)` from `@desync/core`.
 */
export const localStoreScheme: StoreScheme = {
  name: 'local',
  matches: isLocalLocation,
  open: (location, options) => new LocalStore({ path: pathOf(location), uncompressed: options.uncompressed }),
};
