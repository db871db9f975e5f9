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
import {
  type EntryTail,
  entryObjects,
  filenameObject,
  type GoodbyeChild,
  goodbyeChild,
  goodbyeObject,
  isStoredType,
  normalizeFlags,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  timeGranularity,
} from './catar-objects.js';
import { type ExcludeRules, ExcludeSyntaxError, parseExcludeFile, testExclude } from './exclude-rules.js';
import { CatarFeatureFlags as F } from './format.js';
import { loadNodeAttributes, type NodeAttributes, readXattrs, type Xattr } from './node-attributes.js';

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

const DEFAULT_BLOCK_SIZE = 64 * 1024;
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
  const flags = normalizeFlags(options.featureFlags, 'the catar encoder');
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
  let tail: EntryTail = { kind: 'none' };
  if (type === S_IFREG) {
    tail = { kind: 'payload', size: Number(st.size) };
  } else if (type === S_IFLNK) {
    try {
      tail = { kind: 'symlink', target: readlinkSync(path, { encoding: 'buffer' }) };
    } catch (err) {
      throw fail(path, err);
    }
  } else if (type === 0o020000n || type === 0o060000n) {
    tail = { kind: 'device', major: devMajor(st.rdev), minor: devMinor(st.rdev) };
  }
  const xattrs = nodeXattrs(path, type, ctx);
  const entry = entryObjects({ flags: f, mode: st.mode, uid, gid, mtime, xattrs, tail });
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

  const items: GoodbyeChild[] = [];
  for (const name of names) {
    checkAbort(ctx);
    const child = Buffer.concat([path, SLASH, name]);
    const st = await statPath(child);
    if (!isStoredType(st.mode & S_IFMT, ctx.flags)) continue;
    let inner: ExcludeRules = [];
    if (rules.length > 0) {
      const verdict = testExclude(rules, name.toString('latin1'), (st.mode & S_IFMT) === S_IFDIR);
      if (verdict.excluded) continue;
      inner = verdict.inner;
    }
    if (isNoDump(child, st.mode, ctx)) continue;

    const start = ctx.offset;
    const filename = filenameObject(name);
    ctx.offset += filename.length;
    yield filename;
    yield* encodeNode(child, st, ctx, inner);
    items.push(goodbyeChild(name, start, ctx.offset));
  }

  const goodbye = goodbyeObject(items, ctx.offset, entryStart);
  ctx.offset += goodbye.length;
  yield goodbye;
}
