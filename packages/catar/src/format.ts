import { FeatureFlags } from '@desync/core';
// casync src/caformat.h: every catar object starts with a 16-byte header {size le64, type le64},
// where size counts the header too.

/** Size in bytes of every object header: `{ size le64, type le64 }` (caformat.h CaFormatHeader). */
export const CA_FORMAT_HEADER_SIZE = 16;
/** Size in bytes of an ENTRY object: header + feature_flags, mode, flags, uid, gid, mtime (le64 each). */
export const CA_FORMAT_ENTRY_SIZE = 64;
/** Size in bytes of one goodbye item, and of the goodbye tail: `{ offset, size, hash }` (le64 each). */
export const CA_FORMAT_GOODBYE_ITEM_SIZE = 24;

/** Type id of ENTRY: stat data of one node (caformat.h `CA_FORMAT_ENTRY`). */
export const CA_FORMAT_ENTRY = 0x1396fabcea5bbb51n;
/** Type id of USER: the owner's name (`CA_FORMAT_USER`). */
export const CA_FORMAT_USER = 0xf453131aaeeaccb3n;
/** Type id of GROUP: the group's name (`CA_FORMAT_GROUP`). */
export const CA_FORMAT_GROUP = 0x25eb6ac969396a52n;
/** Type id of XATTR: `name\0value` (`CA_FORMAT_XATTR`). */
export const CA_FORMAT_XATTR = 0xb8157091f80bc486n;
/** Type id of ACL_USER (`CA_FORMAT_ACL_USER`). */
export const CA_FORMAT_ACL_USER = 0x297dc88b2ef12fafn;
/** Type id of ACL_GROUP (`CA_FORMAT_ACL_GROUP`). */
export const CA_FORMAT_ACL_GROUP = 0x36f2acb56cb3dd0bn;
/** Type id of ACL_GROUP_OBJ (`CA_FORMAT_ACL_GROUP_OBJ`). */
export const CA_FORMAT_ACL_GROUP_OBJ = 0x23047110441f38f3n;
/** Type id of ACL_DEFAULT (`CA_FORMAT_ACL_DEFAULT`). */
export const CA_FORMAT_ACL_DEFAULT = 0xfe3eeda6823c8cd0n;
/** Type id of ACL_DEFAULT_USER (`CA_FORMAT_ACL_DEFAULT_USER`). */
export const CA_FORMAT_ACL_DEFAULT_USER = 0xbdf03df9bd010a91n;
/** Type id of ACL_DEFAULT_GROUP (`CA_FORMAT_ACL_DEFAULT_GROUP`). */
export const CA_FORMAT_ACL_DEFAULT_GROUP = 0xa0cb1168782d1f51n;
/** Type id of FCAPS: file capabilities (`CA_FORMAT_FCAPS`). */
export const CA_FORMAT_FCAPS = 0xf7267db0afed0629n;
/** Type id of SELINUX: the SELinux label (`CA_FORMAT_SELINUX`). */
export const CA_FORMAT_SELINUX = 0x46faf0602fd26c59n;
/** Type id of SYMLINK: `target\0` (`CA_FORMAT_SYMLINK`). */
export const CA_FORMAT_SYMLINK = 0x664a6fb6830e0d6cn;
/** Type id of DEVICE: `{ major le64, minor le64 }` (`CA_FORMAT_DEVICE`). */
export const CA_FORMAT_DEVICE = 0xac3dace369dfe643n;
/** Type id of PAYLOAD: a regular file's bytes (`CA_FORMAT_PAYLOAD`). */
export const CA_FORMAT_PAYLOAD = 0x8b9e1d93d6dcffc9n;
/** Type id of FILENAME: `name\0` of the directory entry that follows (`CA_FORMAT_FILENAME`). */
export const CA_FORMAT_FILENAME = 0x6dbb6ebcb3161f0bn;
/** Type id of GOODBYE: the end of a directory, with its lookup table (`CA_FORMAT_GOODBYE`). */
export const CA_FORMAT_GOODBYE = 0xdfd35c5e8327c403n;
/** Hash field of the last goodbye item, the tail (`CA_FORMAT_GOODBYE_TAIL_MARKER`). */
export const CA_FORMAT_GOODBYE_TAIL_MARKER = 0x57446fa533702943n;

/**
 * SipHash-2-4 key of the goodbye item hashes (caformat.h `CA_FORMAT_GOODBYE_HASH_KEY`),
 * 16 bytes as casync lists them.
 */
export const CA_FORMAT_GOODBYE_HASH_KEY: Readonly<Uint8Array> = Uint8Array.of(
  0xb3,
  0x84,
  0x1d,
  0x0f,
  0x2b,
  0x44,
  0x74,
  0x85,
  0xc1,
  0x2e,
  0xc2,
  0xd1,
  0x30,
  0xed,
  0x36,
  0x27,
);

/** casync caformat.h feature flag bits that a catar ENTRY records (core's FeatureFlags table). */
export const CatarFeatureFlags = FeatureFlags;

/**
 * The flags Debian's casync (2+20201210) records for `casync make --with=32bit-uids
 * --with=nsec-time --with=permissions --with=symlinks --with=device-nodes --with=fifos
 * --with=sockets --with=xattrs`: those eight plus SHA512_256, EXCLUDE_NODUMP and EXCLUDE_FILE,
 * which casync adds on its own (`0xb000000010001f22`, measured). A `--with` list replaces
 * casync's default set.
 */
export const CATAR_UNIX_FLAGS =
  CatarFeatureFlags.WITH_32BIT_UIDS |
  CatarFeatureFlags.WITH_NSEC_TIME |
  CatarFeatureFlags.WITH_PERMISSIONS |
  CatarFeatureFlags.WITH_SYMLINKS |
  CatarFeatureFlags.WITH_DEVICE_NODES |
  CatarFeatureFlags.WITH_FIFOS |
  CatarFeatureFlags.WITH_SOCKETS |
  CatarFeatureFlags.WITH_XATTRS |
  CatarFeatureFlags.SHA512_256 |
  CatarFeatureFlags.EXCLUDE_NODUMP |
  CatarFeatureFlags.EXCLUDE_FILE;

/** Type id of QUOTA_PROJID: ext4/XFS project quota id (caformat.h `CA_FORMAT_QUOTA_PROJID`). */
export const CA_FORMAT_QUOTA_PROJID = 0x161baf2d8772a72bn;
