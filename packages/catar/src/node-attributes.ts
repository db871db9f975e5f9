// Access to what Node's fs cannot do: extended attributes (the optional fs-xattr addon),
// inode flags and nanosecond lutimes (the optional @desync/linux-attrs addon). Both are compiled at install
// time; where that failed, archives are written without them and a warning says so.

/** An extended attribute as casync stores it: `name\0value`. */
export interface Xattr {
  /** Full name with namespace, e.g. `user.mime_type`; raw bytes. */
  name: Buffer;
  value: Buffer;
}

// fs-xattr takes UTF-8 string paths only.
interface XattrModule {
  listAttributesSync(path: string): string[];
  getAttributeSync(path: string, name: string): Buffer;
  setAttributeSync(path: string, name: string, value: Buffer): void;
}

interface FlagsModule {
  getInodeFlags(path: string | Buffer): number | undefined;
  inodeFlagsAvailable(): boolean;
  setTimesNs(path: string | Buffer, ns: bigint): boolean;
}

/** Optional native helpers, loaded once. */
export interface NodeAttributes {
  xattrs: XattrModule | undefined;
  flags: FlagsModule | undefined;
}

let loaded: Promise<NodeAttributes> | undefined;

/** Loads the optional addons (once); a missing addon is undefined. */
export function loadNodeAttributes(): Promise<NodeAttributes> {
  loaded ??= (async () => {
    const [xattrs, flags] = await Promise.all([
      import('fs-xattr').then(
        (m) => m as unknown as XattrModule,
        () => undefined,
      ),
      import('@desync/linux-attrs').then(
        (m) => (m.inodeFlagsAvailable() ? (m as FlagsModule) : undefined),
        () => undefined,
      ),
    ]);
    return { xattrs, flags };
  })();
  return loaded;
}

// casync cautil.c ca_xattr_name_store: only the user. and trusted. namespaces are stored
// as XATTR records (security.capability and ACLs have records of their own); names must
// hold a dot that is neither first nor last, and be at most 255 bytes.
export function isStoredXattrName(name: string): boolean {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1 || Buffer.byteLength(name) > 255) return false;
  return name.startsWith('user.') || name.startsWith('trusted.');
}

const NO_XATTRS = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EBADF', 'ENODATA']);

/**
 * The stored extended attributes of a regular file or directory, sorted by name (bytewise,
 * as casync's strcmp). An attribute that vanished between list and get is left out.
 */
export function readXattrs(mod: XattrModule, path: string): Xattr[] {
  let names: string[];
  try {
    names = mod.listAttributesSync(path);
  } catch (err) {
    if (NO_XATTRS.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
  const out: Xattr[] = [];
  for (const name of names) {
    if (!isStoredXattrName(name)) continue;
    try {
      out.push({ name: Buffer.from(name), value: Buffer.from(mod.getAttributeSync(path, name)) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENODATA') continue;
      throw err;
    }
  }
  return out.sort((a, b) => Buffer.compare(a.name, b.name));
}
