import {
  type BigIntStats,
  closeSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
} from 'node:fs';
import { Aborted, describeSystemError, FileError, InvalidArgument } from '@desync/core';
import { type ExcludeRules, ExcludeSyntaxError, parseExcludeFile, testExclude } from './exclude-rules.js';
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
import { loadNodeAttributes, type NodeAttributes, readXattrs, type Xattr } from './node-attributes.js';
import { siphash24 } from './siphash24.js';

/** Options of encodeCatar and writeCatar. */
export interface EncodeCatarOptions {
  /**
   * casync feature flags, recorded in every ENTRY and deciding what is stored (e.g.
   * `CATAR_UNIX_FLAGS`). Normalized as casync does (32-bit uids drop 16-bit ones, the finest
   * time granularity wins, permissions drop read-only). Only the bits listed in the README
   * are supported; any other bit is refused with InvalidArgument rather than silently ignored.
   */
  featureFlags: bigint;
  /** Bytes read from a regular file at a time; default 64 KiB. Bounds memory with the tree depth. */
  blockSize?: number;
  /** Aborting stops the walk at the next object or block with Aborted. */
  signal?: AbortSignal;
  /**
   * Called once per kind of data that cannot be read on this machine and is left out (e.g.
   * extended attributes when the fs-xattr addon is not built).
   */
  onWarning?: (message: string) => void;
}

// Bits this encoder writes byte for byte as casync does. USER_NAMES, chattr and FAT flags,
// ACLs, SELinux, fcaps, subvolumes, quota project ids and submount exclusion need data
// Node cannot read or were not verified yet.
const SUPPORTED =
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

const S_IFMT = 0o170000n;
const S_IFDIR = 0o040000n;
const S_IFLNK = 0o120000n;
const DEFAULT_BLOCK_SIZE = 64 * 1024;
const S_IFREG = 0o100000n;
const SLASH = Buffer.from('/');
// casync's per-directory exclusion list (EXCLUDE_FILE), read where it sits.
const EXCLUDE_FILE_NAME = '.caexclude';
// linux/fs.h FS_NODUMP_FL, chattr +d: skipped under EXCLUDE_NODUMP.
const FS_NODUMP_FL = 0x40;

interface Context {
  flags: bigint;
  /** Nanoseconds per mtime step, or 0n when no time is stored. */
  granularity: bigint;
  blockSize: number;
  signal: AbortSignal | undefined;
  /** Bytes emitted so far: goodbye items hold offsets relative to it. */
  offset: number;
  native: NodeAttributes;
  warn: (key: string, message: string) => void;
}

/**
 * Streams the catar archive of the directory `rootDir`, byte for byte what
 * `casync make` (Debian 2+20201210) writes for the same tree and feature flags.
 *
 * Memory stays bounded: file contents are read `blockSize` bytes at a time, and only the
 * sorted listing and goodbye items of the directories on the current path are held.
 * @throws InvalidArgument when `featureFlags` holds a bit this encoder does not support.
 * @throws FileError naming the path when an entry cannot be read, is not a directory (the
 *   root), changes size while read, or has a `.caexclude` line casync would refuse.
 * @throws Aborted when `signal` aborts.
 */
export async function* encodeCatar(rootDir: string, options: EncodeCatarOptions): AsyncGenerator<Uint8Array> {
  const flags = normalizeFlags(options.featureFlags);
  const warned = new Set<string>();
  const ctx: Context = {
    flags,
    granularity: timeGranularity(flags),
    blockSize: options.blockSize ?? DEFAULT_BLOCK_SIZE,
    signal: options.signal,
    offset: 0,
    native: await loadNodeAttributes(),
    warn: (key, message) => {
      if (warned.has(key)) return;
      warned.add(key);
      options.onWarning?.(message);
    },
  };
  if (flags & F.WITH_XATTRS && !ctx.native.xattrs) {
    ctx.warn('xattrs', 'extended attributes are left out: the fs-xattr addon is not built on this machine');
  }
  if (flags & F.EXCLUDE_NODUMP && !ctx.native.flags) {
    ctx.warn('nodump', 'chattr +d (nodump) is not honoured: the @desync/linux-attrs addon is not built');
  }
  if (!Number.isInteger(ctx.blockSize) || ctx.blockSize < 1) {
    throw new InvalidArgument(`blockSize must be a positive integer, got ${ctx.blockSize}`);
  }
  const root = Buffer.from(rootDir);
  const st = await statPath(root);
  if ((st.mode & S_IFMT) !== S_IFDIR) throw new FileError(rootDir, 'not a directory');
  yield* encodeNode(root, st, ctx, []);
}

// casync cafeature.c ca_feature_flags_normalize: redundant bits are dropped, not refused.
function normalizeFlags(input: bigint): bigint {
  if (input < 0n || input > 0xffffffffffffffffn) {
    throw new InvalidArgument(`featureFlags must be an unsigned 64-bit value, got ${input}`);
  }
  const unsupported = input & ~SUPPORTED;
  if (unsupported !== 0n) {
    throw new InvalidArgument(
      `featureFlags 0x${unsupported.toString(16)} are not supported by the catar encoder yet; ` +
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

// casync cafeature.c ca_feature_flags_time_granularity_nsec; without a time flag mtime is 0.
function timeGranularity(f: bigint): bigint {
  if (f & F.WITH_NSEC_TIME) return 1n;
  if (f & F.WITH_USEC_TIME) return 1000n;
  if (f & F.WITH_SEC_TIME) return 1_000_000_000n;
  if (f & F.WITH_2SEC_TIME) return 2_000_000_000n;
  return 0n;
}

function checkAbort(ctx: Context): void {
  if (ctx.signal?.aborted) throw new Aborted({ cause: ctx.signal.reason });
}

function fail(path: Buffer, err: unknown): FileError {
  return new FileError(path.toString(), describeSystemError(err), { cause: err });
}

async function statPath(path: Buffer): Promise<BigIntStats> {
  try {
    return lstatSync(path, { bigint: true });
  } catch (err) {
    throw fail(path, err);
  }
}

function header(buf: Buffer, at: number, size: number, type: bigint): void {
  buf.writeBigUInt64LE(BigInt(size), at);
  buf.writeBigUInt64LE(type, at + 8);
}

// Whether casync stores a node of this type under the flags; others are left out of the
// listing (caencoder.c refuses them with EPROTONOSUPPORT, the walk skips them).
function isStored(mode: bigint, f: bigint): boolean {
  switch (mode & S_IFMT) {
    case 0o040000n:
    case 0o100000n:
      return true;
    case S_IFLNK:
      return (f & F.WITH_SYMLINKS) !== 0n;
    case 0o020000n:
    case 0o060000n:
      return (f & F.WITH_DEVICE_NODES) !== 0n;
    case 0o010000n:
      return (f & F.WITH_FIFOS) !== 0n;
    case 0o140000n:
      return (f & F.WITH_SOCKETS) !== 0n;
    default:
      return false;
  }
}

// caencoder.c ca_encoder_fixup_mode: symlinks are always 0777; without permissions only the
// type survives, with read-only a writable bit picks 0777/0666, none 0555/0444.
function fixupMode(mode: bigint, f: bigint): bigint {
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

// glibc gnu_dev_major/gnu_dev_minor: casync stores major(st_rdev) and minor(st_rdev).
function devMajor(rdev: bigint): bigint {
  return ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
}
function devMinor(rdev: bigint): bigint {
  return (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
}

async function* encodeNode(
  path: Buffer,
  st: BigIntStats,
  ctx: Context,
  exclude: ExcludeRules,
): AsyncGenerator<Uint8Array> {
  checkAbort(ctx);
  const f = ctx.flags;
  const type = st.mode & S_IFMT;
  const entryStart = ctx.offset;

  let uid = 0n;
  let gid = 0n;
  if (f & (F.WITH_16BIT_UIDS | F.WITH_32BIT_UIDS)) {
    uid = st.uid;
    gid = st.gid;
    // caencoder.c: 16-bit archives refuse ids that do not fit (EPROTONOSUPPORT).
    if (f & F.WITH_16BIT_UIDS && (uid > 0xffffn || gid > 0xffffn)) {
      throw new FileError(path.toString(), `uid ${uid}/gid ${gid} do not fit a 16-bit-uid archive`);
    }
  }
  // caformat.h stores mtime as an unsigned le64 of nanoseconds since the epoch.
  if (ctx.granularity !== 0n && st.mtimeNs < 0n) {
    throw new FileError(path.toString(), 'mtime before 1970 cannot be stored in a catar archive');
  }
  const mtime = ctx.granularity === 0n ? 0n : (st.mtimeNs / ctx.granularity) * ctx.granularity;

  // caformat.h: ENTRY is followed by the node's PAYLOAD header, SYMLINK or DEVICE object.
  let tail: Buffer;
  if (type === 0o100000n) {
    tail = Buffer.alloc(CA_FORMAT_HEADER_SIZE);
    header(tail, 0, CA_FORMAT_HEADER_SIZE + Number(st.size), CA_FORMAT_PAYLOAD);
  } else if (type === S_IFLNK) {
    let target: Buffer;
    try {
      target = readlinkSync(path, { encoding: 'buffer' });
    } catch (err) {
      throw fail(path, err);
    }
    const size = CA_FORMAT_HEADER_SIZE + target.length + 1;
    tail = Buffer.alloc(size);
    header(tail, 0, size, CA_FORMAT_SYMLINK);
    target.copy(tail, CA_FORMAT_HEADER_SIZE);
  } else if (type === 0o020000n || type === 0o060000n) {
    tail = Buffer.alloc(CA_FORMAT_HEADER_SIZE + 16);
    header(tail, 0, tail.length, CA_FORMAT_DEVICE);
    tail.writeBigUInt64LE(devMajor(st.rdev), 16);
    tail.writeBigUInt64LE(devMinor(st.rdev), 24);
  } else {
    tail = Buffer.alloc(0);
  }

  // caformat.h: XATTR records sit between the ENTRY and the PAYLOAD/SYMLINK/DEVICE object.
  const xattrs = nodeXattrs(path, type, ctx);
  const xattrBytes = xattrs.reduce(
    (n, x) => n + CA_FORMAT_HEADER_SIZE + x.name.length + 1 + x.value.length,
    0,
  );
  const entry = Buffer.alloc(CA_FORMAT_ENTRY_SIZE + xattrBytes + tail.length);
  header(entry, 0, CA_FORMAT_ENTRY_SIZE, CA_FORMAT_ENTRY);
  entry.writeBigUInt64LE(f, 16);
  entry.writeBigUInt64LE(fixupMode(st.mode, f), 24);
  entry.writeBigUInt64LE(0n, 32); // chattr/FAT flags: none of those features is supported
  entry.writeBigUInt64LE(uid, 40);
  entry.writeBigUInt64LE(gid, 48);
  entry.writeBigUInt64LE(mtime, 56);
  let at = CA_FORMAT_ENTRY_SIZE;
  for (const x of xattrs) {
    const size = CA_FORMAT_HEADER_SIZE + x.name.length + 1 + x.value.length;
    header(entry, at, size, CA_FORMAT_XATTR);
    x.name.copy(entry, at + CA_FORMAT_HEADER_SIZE);
    x.value.copy(entry, at + CA_FORMAT_HEADER_SIZE + x.name.length + 1);
    at += size;
  }
  tail.copy(entry, at);
  ctx.offset += entry.length;
  yield entry;

  if (type === S_IFREG) yield* encodePayload(path, st.size, ctx);
  else if (type === S_IFDIR) yield* encodeDirectory(path, entryStart, ctx, exclude);
}

// caencoder.c ca_encoder_node_read_xattrs: symlinks never carry them, and nodes casync does
// not open (devices, FIFOs, sockets) answer EBADF, so only files and directories have any.
function nodeXattrs(path: Buffer, type: bigint, ctx: Context): Xattr[] {
  const mod = ctx.native.xattrs;
  if (!(ctx.flags & F.WITH_XATTRS) || !mod || (type !== S_IFREG && type !== S_IFDIR)) return [];
  // fs-xattr takes UTF-8 paths only.
  const text = path.toString();
  if (!Buffer.from(text).equals(path)) {
    ctx.warn('xattr-path', `extended attributes of ${text} are left out: its name is not UTF-8`);
    return [];
  }
  try {
    return readXattrs(mod, text);
  } catch (err) {
    throw fail(path, err);
  }
}

// casync skips nodes marked chattr +d under EXCLUDE_NODUMP; it reads the flags of files and
// directories only (the nodes it opens).
function isNoDump(path: Buffer, mode: bigint, ctx: Context): boolean {
  const type = mode & S_IFMT;
  if (!(ctx.flags & F.EXCLUDE_NODUMP) || !ctx.native.flags || (type !== S_IFREG && type !== S_IFDIR)) {
    return false;
  }
  try {
    return ((ctx.native.flags.getInodeFlags(path) ?? 0) & FS_NODUMP_FL) !== 0;
  } catch (err) {
    throw fail(path, err);
  }
}

// The rules of a directory: those carried from above plus its own .caexclude (EXCLUDE_FILE).
function directoryExcludes(
  path: Buffer,
  names: readonly Buffer[],
  inherited: ExcludeRules,
  ctx: Context,
): ExcludeRules {
  if (!(ctx.flags & F.EXCLUDE_FILE) || !names.some((n) => n.toString('latin1') === EXCLUDE_FILE_NAME)) {
    return inherited;
  }
  const file = Buffer.concat([path, SLASH, Buffer.from(EXCLUDE_FILE_NAME)]);
  let text: string;
  try {
    const st = lstatSync(file);
    if (!st.isFile()) return inherited;
    // latin1: patterns and names compare byte for byte, as casync's fnmatch does.
    text = readFileSync(file, 'latin1');
  } catch (err) {
    throw fail(file, err);
  }
  try {
    return [...inherited, ...parseExcludeFile(text)];
  } catch (err) {
    if (err instanceof ExcludeSyntaxError) throw new FileError(file.toString(), err.message);
    throw err;
  }
}

async function* encodePayload(path: Buffer, size: bigint, ctx: Context): AsyncGenerator<Uint8Array> {
  // Synchronous calls: the walk is sequential, and a thread-pool round trip per call made
  // archiving many small files ~20x slower than casync.
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fail(path, err);
  }
  try {
    let left = Number(size);
    while (left > 0) {
      checkAbort(ctx);
      const buf = Buffer.allocUnsafe(Math.min(ctx.blockSize, left));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        throw fail(path, err);
      }
      // The PAYLOAD header already promised `size` bytes: a file that shrank cannot be encoded.
      if (n === 0) throw new FileError(path.toString(), 'file shrank while being archived; retry');
      left -= n;
      ctx.offset += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

interface NameItem {
  start: number;
  end: number;
  hash: bigint;
}

async function* encodeDirectory(
  path: Buffer,
  entryStart: number,
  ctx: Context,
  inherited: ExcludeRules,
): AsyncGenerator<Uint8Array> {
  let names: Buffer[];
  try {
    names = readdirSync(path, { encoding: 'buffer' });
  } catch (err) {
    throw fail(path, err);
  }
  // caencoder.c sorts the listing with strcmp: plain byte order, not locale order.
  names.sort(Buffer.compare);
  const rules = directoryExcludes(path, names, inherited, ctx);

  const items: NameItem[] = [];
  for (const name of names) {
    checkAbort(ctx);
    const child = Buffer.concat([path, SLASH, name]);
    const st = await statPath(child);
    if (!isStored(st.mode, ctx.flags)) continue;
    let inner: ExcludeRules = [];
    if (rules.length > 0) {
      const verdict = testExclude(rules, name.toString('latin1'), (st.mode & S_IFMT) === S_IFDIR);
      if (verdict.excluded) continue;
      inner = verdict.inner;
    }
    if (isNoDump(child, st.mode, ctx)) continue;

    const start = ctx.offset;
    const size = CA_FORMAT_HEADER_SIZE + name.length + 1;
    const filename = Buffer.alloc(size);
    header(filename, 0, size, CA_FORMAT_FILENAME);
    name.copy(filename, CA_FORMAT_HEADER_SIZE);
    ctx.offset += size;
    yield filename;
    yield* encodeNode(child, st, ctx, inner);
    items.push({ start, end: ctx.offset, hash: siphash24(name, CA_FORMAT_GOODBYE_HASH_KEY) });
  }

  // caencoder.c ca_encoder_get_goodbye_data: items sorted by (hash, start), laid out as a BST
  // (camakebst.c), then a tail {goodbye offset from the ENTRY, goodbye size, marker}.
  items.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : a.start - b.start));
  const table = layoutGoodbyeTable(items);
  const goodbyeStart = ctx.offset;
  const size = CA_FORMAT_HEADER_SIZE + CA_FORMAT_GOODBYE_ITEM_SIZE * (table.length + 1);
  const goodbye = Buffer.alloc(size);
  header(goodbye, 0, size, CA_FORMAT_GOODBYE);
  let at = CA_FORMAT_HEADER_SIZE;
  for (const item of table) {
    goodbye.writeBigUInt64LE(BigInt(goodbyeStart - item.start), at);
    goodbye.writeBigUInt64LE(BigInt(item.end - item.start), at + 8);
    goodbye.writeBigUInt64LE(item.hash, at + 16);
    at += CA_FORMAT_GOODBYE_ITEM_SIZE;
  }
  goodbye.writeBigUInt64LE(BigInt(goodbyeStart - entryStart), at);
  goodbye.writeBigUInt64LE(BigInt(size), at + 8);
  goodbye.writeBigUInt64LE(CA_FORMAT_GOODBYE_TAIL_MARKER, at + 16);
  ctx.offset += size;
  yield goodbye;
}
