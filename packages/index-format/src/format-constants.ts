// casync caformat.h: object type ids and the index/table layout.

/** Type id of the index header (`CA_FORMAT_INDEX`). */
export const CA_FORMAT_INDEX = 0x96824d9c7b129ff9n;
/** Type id of the chunk table header (`CA_FORMAT_TABLE`). */
export const CA_FORMAT_TABLE = 0xe75b9e112f17417dn;
/** Last 8 bytes of every index (`CA_FORMAT_TABLE_TAIL_MARKER`). */
export const CA_FORMAT_TABLE_TAIL_MARKER = 0x4b4f050e5549ecd1n;

/** Sizes of the fixed parts of an index file, in bytes. */
export const INDEX_HEADER_SIZE = 48;
export const TABLE_HEADER_SIZE = 16;
export const TABLE_ITEM_SIZE = 40;
export const TABLE_TAIL_SIZE = 40;

/** casync caformat.h feature flags (the ones this project reads or writes). */
export const FeatureFlags = {
  WITH_16BIT_UIDS: 0x1n,
  WITH_32BIT_UIDS: 0x2n,
  WITH_USER_NAMES: 0x4n,
  WITH_SEC_TIME: 0x8n,
  WITH_USEC_TIME: 0x10n,
  WITH_NSEC_TIME: 0x20n,
  WITH_2SEC_TIME: 0x40n,
  WITH_READ_ONLY: 0x80n,
  WITH_PERMISSIONS: 0x100n,
  WITH_SYMLINKS: 0x200n,
  WITH_DEVICE_NODES: 0x400n,
  WITH_FIFOS: 0x800n,
  WITH_SOCKETS: 0x1000n,
  WITH_FLAG_HIDDEN: 0x2000n,
  WITH_FLAG_SYSTEM: 0x4000n,
  WITH_FLAG_ARCHIVE: 0x8000n,
  WITH_FLAG_APPEND: 0x10000n,
  WITH_FLAG_NOATIME: 0x20000n,
  WITH_FLAG_COMPR: 0x40000n,
  WITH_FLAG_NOCOW: 0x80000n,
  WITH_FLAG_NODUMP: 0x100000n,
  WITH_FLAG_DIRSYNC: 0x200000n,
  WITH_FLAG_IMMUTABLE: 0x400000n,
  WITH_FLAG_SYNC: 0x800000n,
  WITH_FLAG_NOCOMP: 0x1000000n,
  WITH_FLAG_PROJINHERIT: 0x2000000n,
  WITH_SUBVOLUME: 0x4000000n,
  WITH_SUBVOLUME_RO: 0x8000000n,
  WITH_XATTRS: 0x10000000n,
  WITH_ACL: 0x20000000n,
  WITH_SELINUX: 0x40000000n,
  WITH_FCAPS: 0x80000000n,
  WITH_QUOTA_PROJID: 0x100000000n,
  EXCLUDE_FILE: 0x1000000000000000n,
  SHA512_256: 0x2000000000000000n,
  EXCLUDE_SUBMOUNTS: 0x4000000000000000n,
  EXCLUDE_NODUMP: 0x8000000000000000n,
} as const;

/**
 * The flags Debian's casync (2+20201210) writes into a blob index (.caibx) made with
 * default options: SHA512/256, exclude-nodump, exclude-file. Measured with `casync make`.
 */
export const BLOB_INDEX_FLAGS =
  FeatureFlags.SHA512_256 | FeatureFlags.EXCLUDE_NODUMP | FeatureFlags.EXCLUDE_FILE;

/** Every bit casync defines; an index with other bits set is not casync's. */
export const KNOWN_FLAGS = Object.values(FeatureFlags).reduce((a, b) => a | b, 0n);
