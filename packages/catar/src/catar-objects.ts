import { InvalidArgument } from '@desync/core';
import {
  CA_FORMAT_DEVICE,
  CA_FORMAT_ENTRY,
  CA_FORMAT_ENTRY_SIZE,
  CA_FORMAT_FILENAME,
  CA_FORMAT_GOODBYE,
  CA_FORMAT_GOODBYE_HASH_KEY,
  CA_FORMAT_GOODBYE_ITEM_SIZE,
  CA_FORMAT_GOODBYE_TAIL_MARKER,
  CA_FORMAT_HEADER_SIZE,
  CA_FORMAT_PAYLOAD,
  CA_FORMAT_SYMLINK,
  CA_FORMAT_XATTR,
  CatarFeatureFlags as F,
} from './format.js';
import { layoutGoodbyeTable } from './goodbye-table.js';
import { siphash24 } from './siphash24.js';

// The objects casync writes, shared by the directory encoder (encodeCatar) and the tar
// converter (tarToCatar), so both stay byte-identical to `casync make`.

/** Bits the encoders write byte for byte as casync does. */
export const SUPPORTED_FLAGS =
  F.WITH_16BIT_UIDS |
  F.WITH_32BIT_UIDS |
  F.WITH_SEC_TIME |
  F.WITH_USEC_TIME |
  F.WITH_NSEC_TIME |
  F.WITH_2SEC_TIME |
  F.WITH_READ_ONLY |
  F.WITH_PERMISSIONS |
  F.WITH_SYMLINKS |
  F.WITH_DEVICE_NODES |
  F.WITH_FIFOS |
  F.WITH_SOCKETS |
  F.WITH_XATTRS |
  F.SHA512_256 |
  F.EXCLUDE_NODUMP |
  F.EXCLUDE_FILE;

export const S_IFMT = 0o170000n;
export const S_IFDIR = 0o040000n;
export const S_IFREG = 0o100000n;
export const S_IFLNK = 0o120000n;
export const S_IFCHR = 0o020000n;
export const S_IFBLK = 0o060000n;
export const S_IFIFO = 0o010000n;
export const S_IFSOCK = 0o140000n;

/**
 * casync cafeature.c ca_feature_flags_normalize: redundant bits are dropped, not refused;
 * bits this project does not write are refused (`who` names the encoder in the message).
 */
export function normalizeFlags(input: bigint, who: string): bigint {
  if (input < 0n || input > 0xffffffffffffffffn) {
    throw new InvalidArgument(`featureFlags must be an unsigned 64-bit value, got ${input}`);
  }
  const unsupported = input & ~SUPPORTED_FLAGS;
  if (unsupported !== 0n) {
    throw new InvalidArgument(
      `featureFlags 0x${unsupported.toString(16)} are not supported by ${who} yet; ` +
        'drop them (see @desync/catar README)',
    );
  }
  let f = input;
  if (f & F.WITH_32BIT_UIDS) f &= ~F.WITH_16BIT_UIDS;
  if (f & F.WITH_NSEC_TIME) f &= ~(F.WITH_USEC_TIME | F.WITH_SEC_TIME | F.WITH_2SEC_TIME);
  if (f & F.WITH_USEC_TIME) f &= ~(F.WITH_SEC_TIME | F.WITH_2SEC_TIME);
  if (f & F.WITH_SEC_TIME) f &= ~F.WITH_2SEC_TIME;
  if (f & F.WITH_PERMISSIONS) f &= ~F.WITH_READ_ONLY;
  return f;
}

/** casync ca_feature_flags_time_granularity_nsec; 0n when no time is stored (mtime 0). */
export function timeGranularity(f: bigint): bigint {
  if (f & F.WITH_NSEC_TIME) return 1n;
  if (f & F.WITH_USEC_TIME) return 1000n;
  if (f & F.WITH_SEC_TIME) return 1_000_000_000n;
  if (f & F.WITH_2SEC_TIME) return 2_000_000_000n;
  return 0n;
}

/**
 * Whether casync stores a node of this type (mode & S_IFMT) under the flags; others are left
 * out of the listing (caencoder.c refuses them with EPROTONOSUPPORT, the walk skips them).
 */
export function isStoredType(type: bigint, f: bigint): boolean {
  switch (type) {
    case S_IFDIR:
    case S_IFREG:
      return true;
    case S_IFLNK:
      return (f & F.WITH_SYMLINKS) !== 0n;
    case S_IFCHR:
    case S_IFBLK:
      return (f & F.WITH_DEVICE_NODES) !== 0n;
    case S_IFIFO:
      return (f & F.WITH_FIFOS) !== 0n;
    case S_IFSOCK:
      return (f & F.WITH_SOCKETS) !== 0n;
    default:
      return false;
  }
}

/**
 * caencoder.c ca_encoder_fixup_mode: symlinks are always 0777; without permissions only the
 * type survives, with read-only a writable bit picks 0777/0666, none 0555/0444.
 */
export function fixupMode(mode: bigint, f: bigint): bigint {
  const type = mode & S_IFMT;
  const isDir = type === S_IFDIR;
  if (type === S_IFLNK) return S_IFLNK | 0o777n;
  if (f & F.WITH_PERMISSIONS) return mode & (S_IFMT | 0o7777n);
  if (f & F.WITH_READ_ONLY) {
    const writable = (mode & 0o222n) !== 0n;
    return type | (writable ? (isDir ? 0o777n : 0o666n) : isDir ? 0o555n : 0o444n);
  }
  return type | (isDir ? 0o777n : 0o666n);
}

function header(buf: Buffer, at: number, size: number, type: bigint): void {
  buf.writeBigUInt64LE(BigInt(size), at);
  buf.writeBigUInt64LE(type, at + 8);
}

/** An extended attribute as stored: `name\0value`. */
export interface XattrRecord {
  name: Buffer;
  value: Buffer;
}

/** What follows a node's ENTRY: a PAYLOAD header, a SYMLINK, a DEVICE, or nothing. */
export type EntryTail =
  | { kind: 'payload'; size: number }
  | { kind: 'symlink'; target: Buffer }
  | { kind: 'device'; major: bigint; minor: bigint }
  | { kind: 'none' };

/** A node's metadata as written in its ENTRY (already reduced to what the flags keep). */
export interface EntryFields {
  flags: bigint;
  /** st_mode as the node has it; fixed up per the flags here. */
  mode: bigint;
  uid: bigint;
  gid: bigint;
  mtime: bigint;
  /** Sorted by name bytewise; written only for files and directories under WITH_XATTRS. */
  xattrs: readonly XattrRecord[];
  tail: EntryTail;
}

/**
 * ENTRY, then the XATTR records, then the PAYLOAD header/SYMLINK/DEVICE (caformat.h order),
 * in one buffer.
 */
export function entryObjects(e: EntryFields): Buffer {
  const type = e.mode & S_IFMT;
  const xattrs = e.flags & F.WITH_XATTRS && (type === S_IFREG || type === S_IFDIR) ? e.xattrs : [];
  let tailSize = 0;
  if (e.tail.kind === 'payload') tailSize = CA_FORMAT_HEADER_SIZE;
  else if (e.tail.kind === 'symlink') tailSize = CA_FORMAT_HEADER_SIZE + e.tail.target.length + 1;
  else if (e.tail.kind === 'device') tailSize = CA_FORMAT_HEADER_SIZE + 16;
  const xattrSize = xattrs.reduce(
    (n, x) => n + CA_FORMAT_HEADER_SIZE + x.name.length + 1 + x.value.length,
    0,
  );
  const out = Buffer.alloc(CA_FORMAT_ENTRY_SIZE + xattrSize + tailSize);
  header(out, 0, CA_FORMAT_ENTRY_SIZE, CA_FORMAT_ENTRY);
  out.writeBigUInt64LE(e.flags, 16);
  out.writeBigUInt64LE(fixupMode(e.mode, e.flags), 24);
  out.writeBigUInt64LE(0n, 32); // chattr/FAT flags: none of those features is supported
  out.writeBigUInt64LE(e.uid, 40);
  out.writeBigUInt64LE(e.gid, 48);
  out.writeBigUInt64LE(e.mtime, 56);
  let at = CA_FORMAT_ENTRY_SIZE;
  for (const x of xattrs) {
    const size = CA_FORMAT_HEADER_SIZE + x.name.length + 1 + x.value.length;
    header(out, at, size, CA_FORMAT_XATTR);
    x.name.copy(out, at + CA_FORMAT_HEADER_SIZE);
    x.value.copy(out, at + CA_FORMAT_HEADER_SIZE + x.name.length + 1);
    at += size;
  }
  if (e.tail.kind === 'payload') {
    header(out, at, CA_FORMAT_HEADER_SIZE + e.tail.size, CA_FORMAT_PAYLOAD);
  } else if (e.tail.kind === 'symlink') {
    header(out, at, tailSize, CA_FORMAT_SYMLINK);
    e.tail.target.copy(out, at + CA_FORMAT_HEADER_SIZE);
  } else if (e.tail.kind === 'device') {
    header(out, at, tailSize, CA_FORMAT_DEVICE);
    out.writeBigUInt64LE(e.tail.major, at + 16);
    out.writeBigUInt64LE(e.tail.minor, at + 24);
  }
  return out;
}

/** A FILENAME object: `name\0`. */
export function filenameObject(name: Buffer): Buffer {
  const size = CA_FORMAT_HEADER_SIZE + name.length + 1;
  const out = Buffer.alloc(size);
  header(out, 0, size, CA_FORMAT_FILENAME);
  name.copy(out, CA_FORMAT_HEADER_SIZE);
  return out;
}

/** Where one child of a directory lies in the stream, for its goodbye table. */
export interface GoodbyeChild {
  /** Offset of its FILENAME object. */
  start: number;
  /** Offset just past its last object. */
  end: number;
  hash: bigint;
}

/** The goodbye-table item of a child named `name` written from `start` to `end`. */
export function goodbyeChild(name: Buffer, start: number, end: number): GoodbyeChild {
  return { start, end, hash: siphash24(name, CA_FORMAT_GOODBYE_HASH_KEY) };
}

/**
 * caencoder.c ca_encoder_get_goodbye_data: the GOODBYE object of a directory whose ENTRY is
 * at `entryStart` and whose GOODBYE starts at `goodbyeStart`: items sorted by (hash, start),
 * laid out as a BST (camakebst.c), then a tail {offset back to the ENTRY, size, marker}.
 */
export function goodbyeObject(children: GoodbyeChild[], goodbyeStart: number, entryStart: number): Buffer {
  children.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : a.start - b.start));
  const table = layoutGoodbyeTable(children);
  const size = CA_FORMAT_HEADER_SIZE + CA_FORMAT_GOODBYE_ITEM_SIZE * (table.length + 1);
  const out = Buffer.alloc(size);
  header(out, 0, size, CA_FORMAT_GOODBYE);
  let at = CA_FORMAT_HEADER_SIZE;
  for (const item of table) {
    out.writeBigUInt64LE(BigInt(goodbyeStart - item.start), at);
    out.writeBigUInt64LE(BigInt(item.end - item.start), at + 8);
    out.writeBigUInt64LE(item.hash, at + 16);
    at += CA_FORMAT_GOODBYE_ITEM_SIZE;
  }
  out.writeBigUInt64LE(BigInt(goodbyeStart - entryStart), at);
  out.writeBigUInt64LE(BigInt(size), at + 8);
  out.writeBigUInt64LE(CA_FORMAT_GOODBYE_TAIL_MARKER, at + 16);
  return out;
}
