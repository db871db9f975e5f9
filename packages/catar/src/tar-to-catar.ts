import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aborted, DesyncError, describeSystemError, FileError, InvalidArgument } from '@desync/core';
import { type Header as TarHeader, extract as tarExtract } from 'tar-stream';
import {
  type EntryTail,
  entryObjects,
  filenameObject,
  type GoodbyeChild,
  goodbyeChild,
  goodbyeObject,
  isStoredType,
  normalizeFlags,
  timeGranularity,
} from './catar-objects.js';
import { drained } from './drained.js';
import { type ExcludeRules, ExcludeSyntaxError, parseExcludeFile, testExclude } from './exclude-rules.js';
import { CatarFeatureFlags as F } from './format.js';
import { isStoredXattrName } from './node-attributes.js';
import { TarFormatError } from './tar-format-error.js';

/** Options of tarToCatar. */
export interface TarToCatarOptions {
  /**
   * casync feature flags, recorded in every ENTRY and deciding what is stored, as for
   * encodeCatar (e.g. `CATAR_UNIX_FLAGS`). With WITH_XATTRS, the `user.` and `trusted.`
   * extended attributes of files and directories come from the pax records GNU tar
   * (`SCHILY.xattr.*`, UTF-8 values only) and bsdtar (`LIBARCHIVE.xattr.*`) write.
   */
  featureFlags: bigint;
  /** Name of the tar in error messages (e.g. its file name); default 'tar stream'. */
  name?: string;
  /**
   * Directory for the spool file holding payloads while the tree is collected (catar needs
   * the whole listing of a directory before its first child); default `os.tmpdir()`. The
   * spool directory is removed when the conversion ends, fails or is abandoned.
   */
  tempDir?: string;
  /**
   * Bytes of file contents held in memory instead of spooled; files above 64 KiB are always
   * spooled. Default 16 MiB. Bounds memory together with the metadata of the entries.
   */
  memoryLimit?: number;
  /** Bytes read back from the spool at a time; default 64 KiB. */
  blockSize?: number;
  /** Aborting stops at the next tar entry or catar block with Aborted. */
  signal?: AbortSignal;
  /** Called once per kind of tar data that is not converted (e.g. binary SCHILY.xattr values). */
  onWarning?: (message: string) => void;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const INLINE_MAX = 64 * 1024;
const DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024;
const DEFAULT_BLOCK_SIZE = 64 * 1024;
/** Metadata of directories the tar implies but does not list (documented in the README). */
const IMPLICIT_DIR_MODE = 0o755;
// casync's per-directory exclusion list, honoured under EXCLUDE_FILE as encodeCatar does.
const EXCLUDE_FILE_NAME = '.caexclude';

/** One tar entry as tar-stream hands it out: its header and its contents. */
type TarEntry = AsyncIterable<Uint8Array> & { header: TarHeader };

interface Payload {
  size: number;
  /** Contents held in memory, or undefined when spooled at `offset`. */
  data: Buffer[] | undefined;
  offset: number;
}

interface Node {
  /** File type bits (S_IFDIR, S_IFREG, ...). */
  type: number;
  /** Permission bits (07777). */
  perm: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  /** Directories: children by name. */
  children?: Map<string, Node>;
  payload?: Payload;
  target?: string;
  major?: number;
  minor?: number;
  /** Extended attributes to store, sorted by name bytewise. */
  xattrs: Xattr[];
}

interface Xattr {
  name: Buffer;
  value: Buffer;
}

/**
 * Converts a tar stream (GNU, ustar or pax, as `tar-stream` reads it) into the catar stream
 * encodeCatar writes for the same tree and flags: children sorted by name bytewise, the
 * same ENTRY, PAYLOAD, SYMLINK, DEVICE, FILENAME and GOODBYE objects.
 *
 * The tar is read to its end first (catar needs each directory's complete, sorted listing):
 * metadata stays in memory, file contents go to a spool file in `tempDir` unless small
 * (see `memoryLimit`). Hard links become a second copy of the contents (catar has none).
 * The entry `.` (or `./`) gives the root its metadata; directories the tar implies but does
 * not list get mode 0755, uid/gid 0 and mtime 0. A later entry of the same name replaces
 * an earlier one, as extracting the tar would.
 * @throws TarFormatError naming the entry for an unsafe name (absolute, `..`), an entry type
 *   catar cannot hold (sparse, volume labels), a hard link to an entry not seen before, a
 *   path through a non-directory, an mtime before 1970, or a malformed or truncated tar.
 * @throws InvalidArgument for unsupported feature flags; FileError when the spool cannot be
 *   written; Aborted when `signal` aborts.
 */
export async function* tarToCatar(
  source: AsyncIterable<Uint8Array>,
  options: TarToCatarOptions,
): AsyncGenerator<Uint8Array> {
  const flags = normalizeFlags(options.featureFlags, 'the tar converter');
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new InvalidArgument(`blockSize must be a positive integer, got ${blockSize}`);
  }
  const spool = new Spool(
    options.tempDir ?? tmpdir(),
    options.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
    options.signal,
  );
  try {
    const root = await readTree(source, options, spool);
    const ctx: EmitContext = {
      flags,
      granularity: timeGranularity(flags),
      blockSize,
      signal: options.signal,
      archive: options.name ?? 'tar stream',
      spool,
      offset: 0,
    };
    yield* emitNode(root, '', ctx, []);
  } finally {
    await spool.close();
  }
}

// ---- reading the tar -------------------------------------------------------------------

/** Where payloads wait: in memory up to a budget, else appended to one temporary file. */
class Spool {
  #dir: string | undefined;
  #handle: FileHandle | undefined;
  #size = 0;
  #inMemory = 0;
  constructor(
    private readonly parent: string,
    private readonly memoryLimit: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async add(chunks: AsyncIterable<Uint8Array>, size: number): Promise<Payload> {
    if (size <= INLINE_MAX && this.#inMemory + size <= this.memoryLimit) {
      const data: Buffer[] = [];
      for await (const c of chunks) data.push(Buffer.from(c));
      this.#inMemory += size;
      return { size, data, offset: 0 };
    }
    const handle = await this.#open();
    const offset = this.#size;
    for await (const c of chunks) {
      if (this.signal?.aborted) throw new Aborted({ cause: this.signal.reason });
      try {
        await handle.write(c, 0, c.length, this.#size);
      } catch (err) {
        throw this.#fail(err);
      }
      this.#size += c.length;
    }
    return { size, data: undefined, offset };
  }

  async *read(p: Payload, blockSize: number): AsyncGenerator<Uint8Array> {
    if (p.data !== undefined) {
      yield* p.data;
      return;
    }
    const handle = await this.#open();
    let at = p.offset;
    let left = p.size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(blockSize, left));
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buf, 0, buf.length, at));
      } catch (err) {
        throw this.#fail(err);
      }
      if (n === 0) throw new FileError(this.#dir ?? this.parent, 'spool file shrank while converting');
      at += n;
      left -= n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  }

  async close(): Promise<void> {
    await this.#handle?.close().catch(() => {});
    this.#handle = undefined;
    if (this.#dir !== undefined) await rm(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }

  async #open(): Promise<FileHandle> {
    if (this.#handle) return this.#handle;
    try {
      this.#dir = await mkdtemp(join(this.parent, 'desync-tar-'));
      this.#handle = await open(join(this.#dir, 'payloads'), 'wx+', 0o600);
    } catch (err) {
      throw this.#fail(err);
    }
    return this.#handle;
  }

  #fail(err: unknown): FileError {
    return new FileError(this.#dir ?? this.parent, `spooling tar contents: ${describeSystemError(err)}`, {
      cause: err,
    });
  }
}

function newDir(): Node {
  return {
    type: S_IFDIR,
    perm: IMPLICIT_DIR_MODE,
    uid: 0,
    gid: 0,
    mtimeNs: 0n,
    children: new Map(),
    xattrs: [],
  };
}

// PAX `mtime` is decimal seconds with an optional fraction (POSIX pax "extended header").
function parsePaxTime(text: string): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) return undefined;
  const ns = BigInt(m[2] as string) * 1_000_000_000n + BigInt(`${m[3] ?? ''}000000000`.slice(0, 9));
  return m[1] === '-' ? -ns : ns;
}

function parsePaxId(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

async function readTree(
  source: AsyncIterable<Uint8Array>,
  options: TarToCatarOptions,
  spool: Spool,
): Promise<Node> {
  const archive = options.name ?? 'tar stream';
  const signal = options.signal;
  const root = newDir();
  const warned = new Set<string>();
  // Pre-POSIX (v7) headers have no magic; the header checksum still has to match.
  const extract = tarExtract({ allowUnknownFormat: true } as Parameters<typeof tarExtract>[0]);

  // Feeds the parser from `source`, honouring its backpressure; a source error destroys it.
  const feeding = (async () => {
    try {
      for await (const block of source) {
        if (extract.destroyed) return;
        if (!extract.write(block)) {
          await drained(extract);
        }
      }
      extract.end(undefined);
    } catch (err) {
      extract.destroy(err as Error);
    }
  })();

  const fail = (entry: string, reason: string, cause?: unknown): TarFormatError =>
    new TarFormatError(archive, entry, reason, cause === undefined ? undefined : { cause });
  // Errors of the tar parser (not ours, nor the source's or the spool's) become TarFormatError.
  const parsing = async <T>(entry: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DesyncError) throw err;
      throw fail(entry, describeParseError(err), err);
    }
  };

  let ok = false;
  try {
    const iterator = extract[Symbol.asyncIterator]();
    while (true) {
      if (signal?.aborted) throw new Aborted({ cause: signal.reason });
      const step = await parsing('', async () => (await iterator.next()) as IteratorResult<TarEntry>);
      if (step.done) break;
      const entry = step.value;
      const h = entry.header;
      const name = h.name;
      const parts = splitName(name, (reason) => fail(name, reason));
      const pax = (h.pax ?? {}) as Record<string, string | undefined>;
      const xattrs = xattrsOf(pax, (key, message) => {
        if (warned.has(key)) return;
        warned.add(key);
        options.onWarning?.(message);
      });
      if (pax['GNU.sparse.major'] !== undefined || pax['GNU.sparse.size'] !== undefined) {
        throw fail(name, 'GNU sparse files are not supported; create the tar without --sparse');
      }
      let mtimeNs = BigInt(Math.floor((h.mtime?.getTime() ?? 0) / 1000)) * 1_000_000_000n;
      if (pax.mtime !== undefined) {
        const t = parsePaxTime(pax.mtime);
        if (t === undefined) throw fail(name, `bad PAX mtime ${JSON.stringify(pax.mtime)}`);
        mtimeNs = t;
      }
      const meta = {
        perm: (h.mode ?? 0) & 0o7777,
        uid: parsePaxId(pax.uid) ?? h.uid ?? 0,
        gid: parsePaxId(pax.gid) ?? h.gid ?? 0,
        mtimeNs,
        xattrs,
      };

      let node: Node;
      switch (h.type) {
        case 'file':
        case 'contiguous-file': {
          const size = h.size ?? 0;
          node = { type: S_IFREG, ...meta, payload: await parsing(name, () => spool.add(entry, size)) };
          break;
        }
        case 'directory':
          node = { type: S_IFDIR, ...meta, children: new Map() };
          break;
        case 'symlink':
          if (!h.linkname) throw fail(name, 'symlink without a target');
          node = { type: S_IFLNK, ...meta, target: h.linkname };
          break;
        case 'character-device':
        case 'block-device':
          node = {
            type: h.type === 'character-device' ? S_IFCHR : S_IFBLK,
            ...meta,
            major: h.devmajor ?? 0,
            minor: h.devminor ?? 0,
          };
          break;
        case 'fifo':
          node = { type: S_IFIFO, ...meta };
          break;
        case 'link': {
          const linkParts = splitName(h.linkname ?? '', (reason) =>
            fail(name, `hard link target ${JSON.stringify(h.linkname)}: ${reason}`),
          );
          const target = lookup(root, linkParts);
          if (target === undefined) {
            throw fail(
              name,
              `hard link to ${JSON.stringify(h.linkname)}, which is not earlier in the archive`,
            );
          }
          if (target.type === S_IFDIR) throw fail(name, 'hard link to a directory');
          // Both names share one inode on disk: the link gets the target's metadata and data.
          node = { ...target };
          break;
        }
        default:
          throw fail(
            name,
            'unsupported tar entry type (GNU sparse, multi-volume, or a vendor extension); ' +
              'create the tar without such entries',
          );
      }
      // Whatever the entry holds that was not read (links, devices) is skipped.
      await parsing(name, async () => {
        for await (const _ of entry) {
          // drained
        }
      });
      place(root, parts, node, (reason) => fail(name, reason));
    }
    ok = true;
  } finally {
    // On success the feeder has finished. On error it is not awaited: it may be blocked
    // reading a source that never ends (a terminal on stdin); it stops at its next block.
    if (!extract.destroyed) extract.destroy(null);
    if (ok) await feeding;
  }
  return root;
}

// Extended attributes from pax records: bsdtar's LIBARCHIVE.xattr.<url-encoded name>=<base64>
// is exact; GNU tar's SCHILY.xattr.<name>=<raw value> reaches us decoded as UTF-8 (tar-stream),
// so a value that was not UTF-8 text cannot be recovered and is left out.
function xattrsOf(
  pax: Record<string, string | undefined>,
  warn: (key: string, message: string) => void,
): Xattr[] {
  const byName = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(pax)) {
    if (value === undefined || !key.startsWith('SCHILY.xattr.')) continue;
    const name = key.slice('SCHILY.xattr.'.length);
    if (value.includes('\uFFFD')) {
      warn('xattr-binary', `extended attribute ${name} is not UTF-8 text in the tar; left out`);
      continue;
    }
    byName.set(name, Buffer.from(value));
  }
  for (const [key, value] of Object.entries(pax)) {
    if (value === undefined || !key.startsWith('LIBARCHIVE.xattr.')) continue;
    let name: string;
    try {
      name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
    } catch {
      continue;
    }
    byName.set(name, Buffer.from(value, 'base64'));
  }
  return [...byName]
    .filter(([name]) => isStoredXattrName(name))
    .map(([name, value]) => ({ name: Buffer.from(name), value }))
    .sort((a, b) => Buffer.compare(a.name, b.name));
}

function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/Unexpected end/i.test(message)) return 'truncated: the stream ends inside an entry';
  return `not a valid tar archive (${message})`;
}

// Tar names are relative paths; `./` prefixes and `.` components are dropped, trailing `/`
// marks directories. Absolute names and `..` components would escape the tree: refused.
function splitName(name: string, fail: (reason: string) => TarFormatError): string[] {
  if (name.startsWith('/')) throw fail('absolute names are not allowed; create the tar with relative paths');
  if (name.includes('\0')) throw fail('the name holds a NUL byte');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw fail('names with a ".." component are not allowed');
  return parts;
}

function lookup(root: Node, parts: readonly string[]): Node | undefined {
  let node: Node | undefined = root;
  for (const p of parts) node = node?.children?.get(p);
  return node;
}

function place(
  root: Node,
  parts: readonly string[],
  node: Node,
  fail: (reason: string) => TarFormatError,
): void {
  if (parts.length === 0) {
    if (node.type !== S_IFDIR) throw fail('the archive root must be a directory');
    Object.assign(root, {
      perm: node.perm,
      uid: node.uid,
      gid: node.gid,
      mtimeNs: node.mtimeNs,
      xattrs: node.xattrs,
    });
    return;
  }
  let dir = root;
  for (const [i, p] of parts.slice(0, -1).entries()) {
    let next = dir.children?.get(p);
    if (next === undefined) {
      next = newDir();
      dir.children?.set(p, next);
    } else if (next.children === undefined) {
      throw fail(`${parts.slice(0, i + 1).join('/')} is not a directory in the archive`);
    }
    dir = next;
  }
  const name = parts[parts.length - 1] as string;
  const existing = dir.children?.get(name);
  // A directory listed again (or after its children) keeps its children.
  if (existing?.children !== undefined && node.children !== undefined) {
    Object.assign(existing, {
      perm: node.perm,
      uid: node.uid,
      gid: node.gid,
      mtimeNs: node.mtimeNs,
      xattrs: node.xattrs,
    });
    return;
  }
  dir.children?.set(name, node);
}

// ---- writing the catar (the layout of encode-catar.ts, from the tree instead of the disk) --

interface EmitContext {
  flags: bigint;
  granularity: bigint;
  blockSize: number;
  signal: AbortSignal | undefined;
  archive: string;
  spool: Spool;
  /** Bytes emitted so far: goodbye items hold offsets relative to it. */
  offset: number;
}

function checkAbort(ctx: EmitContext): void {
  if (ctx.signal?.aborted) throw new Aborted({ cause: ctx.signal.reason });
}

async function* emitNode(
  node: Node,
  path: string,
  ctx: EmitContext,
  exclude: ExcludeRules,
): AsyncGenerator<Uint8Array> {
  checkAbort(ctx);
  const f = ctx.flags;
  const entryStart = ctx.offset;
  const fail = (reason: string) => new TarFormatError(ctx.archive, path === '' ? '.' : path, reason);
  let uid = 0n;
  let gid = 0n;
  if (f & (F.WITH_16BIT_UIDS | F.WITH_32BIT_UIDS)) {
    uid = BigInt(node.uid);
    gid = BigInt(node.gid);
    if (f & F.WITH_16BIT_UIDS && (uid > 0xffffn || gid > 0xffffn)) {
      throw fail(`uid ${uid}/gid ${gid} do not fit a 16-bit-uid archive`);
    }
    if (uid > 0xffffffffn || gid > 0xffffffffn) throw fail(`uid ${uid}/gid ${gid} exceed 32 bits`);
  }
  if (ctx.granularity !== 0n && node.mtimeNs < 0n) {
    throw fail('mtime before 1970 cannot be stored in a catar archive');
  }
  const mtime = ctx.granularity === 0n ? 0n : (node.mtimeNs / ctx.granularity) * ctx.granularity;

  let tail: EntryTail = { kind: 'none' };
  if (node.type === S_IFREG) {
    tail = { kind: 'payload', size: node.payload?.size ?? 0 };
  } else if (node.type === S_IFLNK) {
    tail = { kind: 'symlink', target: Buffer.from(node.target ?? '') };
  } else if (node.type === S_IFCHR || node.type === S_IFBLK) {
    tail = { kind: 'device', major: BigInt(node.major ?? 0), minor: BigInt(node.minor ?? 0) };
  }
  const mode = BigInt(node.type | node.perm);
  const entry = entryObjects({ flags: f, mode, uid, gid, mtime, xattrs: node.xattrs, tail });
  ctx.offset += entry.length;
  yield entry;

  if (node.type === S_IFREG && node.payload !== undefined) {
    for await (const block of ctx.spool.read(node.payload, ctx.blockSize)) {
      checkAbort(ctx);
      ctx.offset += block.length;
      yield block;
    }
  } else if (node.type === S_IFDIR) {
    yield* emitDirectory(node, path, entryStart, ctx, exclude);
  }
}

// The rules of a directory: those carried from above plus its own .caexclude (EXCLUDE_FILE),
// as encodeCatar applies them.
async function directoryExcludes(
  node: Node,
  path: string,
  inherited: ExcludeRules,
  ctx: EmitContext,
): Promise<ExcludeRules> {
  const file = node.children?.get(EXCLUDE_FILE_NAME);
  if (!(ctx.flags & F.EXCLUDE_FILE) || file?.type !== S_IFREG || file.payload === undefined) return inherited;
  const parts: Uint8Array[] = [];
  for await (const block of ctx.spool.read(file.payload, ctx.blockSize)) parts.push(block);
  try {
    // latin1: patterns and names compare byte for byte, as casync's fnmatch does.
    return [...inherited, ...parseExcludeFile(Buffer.concat(parts).toString('latin1'))];
  } catch (err) {
    if (err instanceof ExcludeSyntaxError) {
      throw new TarFormatError(
        ctx.archive,
        path === '' ? EXCLUDE_FILE_NAME : `${path}/${EXCLUDE_FILE_NAME}`,
        err.message,
      );
    }
    throw err;
  }
}

async function* emitDirectory(
  node: Node,
  path: string,
  entryStart: number,
  ctx: EmitContext,
  inherited: ExcludeRules,
): AsyncGenerator<Uint8Array> {
  // casync sorts the listing with strcmp: plain byte order of the UTF-8 names.
  const names = [...(node.children ?? new Map<string, Node>()).entries()]
    .map(([name, child]) => ({ name, bytes: Buffer.from(name), child }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const rules = await directoryExcludes(node, path, inherited, ctx);
  const items: GoodbyeChild[] = [];
  for (const { name, bytes, child } of names) {
    checkAbort(ctx);
    if (!isStoredType(BigInt(child.type), ctx.flags)) continue;
    let inner: ExcludeRules = [];
    if (rules.length > 0) {
      const verdict = testExclude(rules, bytes.toString('latin1'), child.type === S_IFDIR);
      if (verdict.excluded) continue;
      inner = verdict.inner;
    }
    const start = ctx.offset;
    const filename = filenameObject(bytes);
    ctx.offset += filename.length;
    yield filename;
    yield* emitNode(child, path === '' ? name : `${path}/${name}`, ctx, inner);
    items.push(goodbyeChild(bytes, start, ctx.offset));
  }
  const goodbye = goodbyeObject(items, ctx.offset, entryStart);
  ctx.offset += goodbye.length;
  yield goodbye;
}
