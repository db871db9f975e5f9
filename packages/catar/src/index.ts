export { CatarFormatError } from './catar-format-error.js';
export type { CatarToTarOptions } from './catar-to-tar.js';
export { catarToTar } from './catar-to-tar.js';
export type {
  CatarDeviceEntry,
  CatarDirectoryEntry,
  CatarEntry,
  CatarEntryBase,
  CatarEntryKind,
  CatarFileEntry,
  CatarSkippedKind,
  CatarSpecialEntry,
  CatarSymlinkEntry,
  CatarXattr,
  DecodeCatarOptions,
} from './decode-catar.js';
export { decodeCatar } from './decode-catar.js';
export type { EncodeCatarOptions } from './encode-catar.js';
export { encodeCatar } from './encode-catar.js';
export type { ExtractCatarOptions } from './extract-catar.js';
export { extractCatar } from './extract-catar.js';
export {
  CA_FORMAT_ACL_DEFAULT,
  CA_FORMAT_ACL_DEFAULT_GROUP,
  CA_FORMAT_ACL_DEFAULT_USER,
  CA_FORMAT_ACL_GROUP,
  CA_FORMAT_ACL_GROUP_OBJ,
  CA_FORMAT_ACL_USER,
  CA_FORMAT_DEVICE,
  CA_FORMAT_ENTRY,
  CA_FORMAT_ENTRY_SIZE,
  CA_FORMAT_FCAPS,
  CA_FORMAT_FILENAME,
  CA_FORMAT_GOODBYE,
  CA_FORMAT_GOODBYE_HASH_KEY,
  CA_FORMAT_GOODBYE_ITEM_SIZE,
  CA_FORMAT_GOODBYE_TAIL_MARKER,
  CA_FORMAT_GROUP,
  CA_FORMAT_HEADER_SIZE,
  CA_FORMAT_PAYLOAD,
  CA_FORMAT_QUOTA_PROJID,
  CA_FORMAT_SELINUX,
  CA_FORMAT_SYMLINK,
  CA_FORMAT_USER,
  CA_FORMAT_XATTR,
  CATAR_UNIX_FLAGS,
  CatarFeatureFlags,
} from './format.js';
export { formatCatarMode } from './format-catar-mode.js';
export { layoutGoodbyeTable } from './goodbye-table.js';
export type { CatarListLine, ListCatarOptions } from './list-catar.js';
export { listCatar } from './list-catar.js';
export { siphash24 } from './siphash24.js';
export { TarFormatError } from './tar-format-error.js';
export type { TarToCatarOptions } from './tar-to-catar.js';
export { tarToCatar } from './tar-to-catar.js';
export { writeCatar } from './write-catar.js';
