/** casync caprotocol.h: the type word of each protocol message. */
export const MessageType = {
  HELLO: 0x3c71d0948ca5fbeen,
  INDEX: 0xb32a91dd2b3e27f8n,
  INDEX_EOF: 0x4f0932f1043718f5n,
  ARCHIVE: 0x95d6428a69eddcc5n,
  ARCHIVE_EOF: 0x450bef663f24cbadn,
  REQUEST: 0x8ab427e0f89d9210n,
  CHUNK: 0x5213dd180a84bc8cn,
  MISSING: 0xd010f9fac82b7b6cn,
  GOODBYE: 0xad205dbf1a3686c3n,
  ABORT: 0xe7d9136b7efea352n,
} as const;

/**
 * casync caprotocol.h: HELLO feature bits. The first six are services a side provides, the
 * rest operations it wants the other side to serve.
 */
export const ProtocolFeature = {
  READABLE_STORE: 0x1n,
  WRITABLE_STORE: 0x2n,
  READABLE_INDEX: 0x4n,
  WRITABLE_INDEX: 0x8n,
  READABLE_ARCHIVE: 0x10n,
  WRITABLE_ARCHIVE: 0x20n,
  PULL_CHUNKS: 0x40n,
  PULL_INDEX: 0x80n,
  PULL_ARCHIVE: 0x100n,
  PUSH_CHUNKS: 0x200n,
  PUSH_INDEX: 0x400n,
  PUSH_INDEX_CHUNKS: 0x800n,
  PUSH_ARCHIVE: 0x1000n,
} as const;

/** casync caprotocol.h CA_PROTOCOL_FEATURE_FLAGS_MAX: every defined feature bit. */
export const FEATURE_FLAGS_MAX = 0x1fffn;

/** casync caprotocol.h: REQUEST flag asking the peer to serve these ids first. */
export const REQUEST_HIGH_PRIORITY = 0x1n;

/** casync caprotocol.h: CHUNK flag saying the data is a zstd frame, not plain bytes. */
export const CHUNK_COMPRESSED = 0x1n;

/** casync caprotocol.h: size and type, both le64, open every message. */
export const HEADER_SIZE = 16;

/** casync caprotocol.h CA_PROTOCOL_SIZE_MAX: no message, header included, is larger (16 MiB). */
export const MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

/** Bytes of a chunk id on the wire (SHA512/256). */
export const CHUNK_ID_SIZE = 32;
