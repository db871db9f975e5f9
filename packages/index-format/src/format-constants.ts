import { FeatureFlags } from '@desync/core';

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

/** casync caformat.h feature flags (the table lives in core; catar records the same bits). */
export { FeatureFlags };

/**
 * The flags Debian's casync (2+20201210) writes into a blob index (.caibx) made with
 * default options: SHA512/256, exclude-nodump, exclude-file. Measured with `casync make`.
 */
export const BLOB_INDEX_FLAGS =
  FeatureFlags.SHA512_256 | FeatureFlags.EXCLUDE_NODUMP | FeatureFlags.EXCLUDE_FILE;

/** Every bit casync defines; an index with other bits set is not casync's. */
export const KNOWN_FLAGS = Object.values(FeatureFlags).reduce((a, b) => a | b, 0n);
