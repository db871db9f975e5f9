import { Aborted, InvalidArgument } from '@desync/core';
import { ByteReader } from './byte-reader.js';
import { CatarFormatError } from './catar-format-error.js';
import {
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
} from './format.js';
import { siphash24 } from './siphash24.js';

/** What a catar node is. */
export type CatarEntryKind = 'directory' | 'file' | 'symlink' | 'device' | 'fifo' | 'socket';

/** Metadata every catar node has (casync caformat.h CaFormatEntry). */
export interface CatarEntryBase {
  /** Path relative to the archive root, components joined with '/'; '' for the root. */
  path: string;
  /** st_mode as stored: file type bits and permission bits (07777). */
  mode: number;
  /** Owner uid as stored (0 when the archive has no uids). */
  uid: number;
  /** Group gid as stored (0 when the archive has no uids). */
  gid: number;
  /** Modification time in nanoseconds since the epoch (0n when the archive has no times). */
  mtimeNs: bigint;
  /** Byte offset of the node's ENTRY object in the stream, for messages. */
  offset: number;
  /** Extended attributes (XATTR records, `user.` and `trusted.` names), in stored order. */
  xattrs: CatarXattr[];
}

/** One extended attribute of a node. */
export interface CatarXattr {
  /** Full name with namespace, e.g. `user.comment`. */
  name: string;
  value: Uint8Array;
}

/** A directory; its children follow it, in byte order of their names. */
export interface CatarDirectoryEntry extends CatarEntryBase {
  kind: 'directory';
}

/** A regular file. */
export interface CatarFileEntry extends CatarEntryBase {
  kind: 'file';
  /** Size of the contents in bytes. */
  size: number;
  /**
   * The contents, streamed from the archive in the blocks the source delivered. Read it
   * before asking decodeCatar for the next entry: what is left unread then is skipped, and
   * iterating it afterwards throws InvalidArgument.
   */
  content: AsyncIterable<Uint8Array>;
}

/** A symbolic link. */
export interface CatarSymlinkEntry extends CatarEntryBase {
  kind: 'symlink';
  /** The link target, as stored (never empty). */
  target: string;
}

/** A character or block device (which one: `mode & 0o170000`). */
export interface CatarDeviceEntry extends CatarEntryBase {
  kind: 'device';
  /** Device major number. */
  major: number;
  /** Device minor number. */
  minor: number;
}

/** A FIFO or a Unix socket (nothing but metadata is stored). */
export interface CatarSpecialEntry extends CatarEntryBase {
  kind: 'fifo' | 'socket';
}

/** One node of a catar archive, as decodeCatar yields it. */
export type CatarEntry =
  | CatarDirectoryEntry
  | CatarFileEntry
  | CatarSymlinkEntry
  | CatarDeviceEntry
  | CatarSpecialEntry;

/** Kinds of stored data decodeCatar reads past without returning it. */
export type CatarSkippedKind =
  | 'user-name'
  | 'group-name'
  | 'acl'
  | 'fcaps'
  | 'selinux'
  | 'quota-projid'
  | 'chattr-flags';

/** Options of decodeCatar. */
export interface DecodeCatarOptions {
  /** Name of the archive in error messages (e.g. its file name); default 'catar stream'. */
  name?: string;
  /** Aborting stops decoding at the next object or payload block with Aborted. */
  signal?: AbortSignal;
  /** Called once per kind of stored data that is read past (user names, xattrs, ACLs, ...). */
  onSkip?: (kind: CatarSkippedKind) => void;
}

// Limits beyond which an object is refused as hostile rather than allocated. casync
// caformat.h: names are NAME_MAX (255) bytes in practice; 4096 leaves room for odd
// filesystems. Symlink targets are PATH_MAX in practice; metadata objects (xattr values
// up to 64 KiB, ACL lists, SELinux labels) stay far below 1 MiB.
const MAX_FILENAME_SIZE = CA_FORMAT_HEADER_SIZE + 4096;
const MAX_SYMLINK_SIZE = CA_FORMAT_HEADER_SIZE + 64 * 1024;
const MAX_METADATA_SIZE = 1024 * 1024;

const S_IFMT = 0o170000;
// POSIX sys/stat.h file type bits (mode & S_IFMT).
const KINDS: ReadonlyMap<number, CatarEntryKind> = new Map([
  [0o040000, 'directory'],
  [0o100000, 'file'],
  [0o120000, 'symlink'],
  [0o020000, 'device'],
  [0o060000, 'device'],
  [0o010000, 'fifo'],
  [0o140000, 'socket'],
]);

// casync caformat.h: objects that may sit between an ENTRY and its PAYLOAD/SYMLINK/DEVICE
// (cadecoder.c reads them in this order; we accept any order and skip them all).
const METADATA: ReadonlyMap<bigint, CatarSkippedKind> = new Map([
  [CA_FORMAT_USER, 'user-name'],
  [CA_FORMAT_GROUP, 'group-name'],
  [CA_FORMAT_ACL_USER, 'acl'],
  [CA_FORMAT_ACL_GROUP, 'acl'],
  [CA_FORMAT_ACL_GROUP_OBJ, 'acl'],
  [CA_FORMAT_ACL_DEFAULT, 'acl'],
  [CA_FORMAT_ACL_DEFAULT_USER, 'acl'],
  [CA_FORMAT_ACL_DEFAULT_GROUP, 'acl'],
  [CA_FORMAT_FCAPS, 'fcaps'],
  [CA_FORMAT_SELINUX, 'selinux'],
  [CA_FORMAT_QUOTA_PROJID, 'quota-projid'],
]);

const NAMES: ReadonlyMap<bigint, string> = new Map([
  [CA_FORMAT_ENTRY, 'ENTRY'],
  [CA_FORMAT_PAYLOAD, 'PAYLOAD'],
  [CA_FORMAT_SYMLINK, 'SYMLINK'],
  [CA_FORMAT_DEVICE, 'DEVICE'],
  [CA_FORMAT_FILENAME, 'FILENAME'],
  [CA_FORMAT_GOODBYE, 'GOODBYE'],
]);

interface Header {
  size: number;
  type: bigint;
  /** Stream offset of the header. */
  at: number;
}

interface Item {
  start: number;
  end: number;
  hash: bigint;
}

interface Frame {
  path: string;
  entryStart: number;
  /** Offset of the FILENAME that introduced this directory (-1 for the root). */
  filenameStart: number;
  hash: bigint;
  items: Item[];
  lastName: Uint8Array | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Streams the nodes of a catar archive in archive order (a directory before its children,
 * children in byte order of their names). Memory stays bounded: file contents are handed
 * out as `content` block by block, and only the goodbye bookkeeping of the directories on
 * the current path is kept.
 *
 * Reads what casync writes with any flags: user/group names, xattrs, ACLs, fcaps, SELinux
 * labels, quota project ids and chattr flags are skipped (reported through `onSkip`).
 * @throws CatarFormatError (one line: archive, byte offset, entry path) when a name is empty,
 *   '.', '..', holds '/' or NUL, is not UTF-8 or out of order; the stream is truncated or has
 *   trailing bytes; an object is smaller than its header or beyond the limits; a required
 *   object has another type; or a goodbye table does not match the directory.
 * @throws Aborted when `signal` aborts.
 */
export async function* decodeCatar(
  source: AsyncIterable<Uint8Array>,
  options?: DecodeCatarOptions,
): AsyncGenerator<CatarEntry> {
  const archive = options?.name ?? 'catar stream';
  const signal = options?.signal;
  const skipped = new Set<CatarSkippedKind>();
  const r = new ByteReader(source);
  let path = '';

  const fail = (at: number, reason: string): CatarFormatError =>
    new CatarFormatError(archive, at, path, reason);
  const skip = (kind: CatarSkippedKind): void => {
    if (skipped.has(kind)) return;
    skipped.add(kind);
    options?.onSkip?.(kind);
  };
  const checkAbort = (): void => {
    if (signal?.aborted) throw new Aborted({ cause: signal.reason });
  };
  const read = async (n: number, at: number, what: string): Promise<Uint8Array> => {
    const bytes = await r.read(n);
    if (bytes === undefined) throw fail(at, `truncated: the stream ends inside ${what}`);
    return bytes;
  };
  // Reads a header; undefined only at a clean end of stream.
  const readHeader = async (): Promise<Header | undefined> => {
    checkAbort();
    const at = r.offset;
    if (await r.atEnd()) return undefined;
    const b = await read(CA_FORMAT_HEADER_SIZE, at, 'an object header');
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const size = view.getBigUint64(0, true);
    const type = view.getBigUint64(8, true);
    const name = NAMES.get(type) ?? `object 0x${type.toString(16)}`;
    if (size < BigInt(CA_FORMAT_HEADER_SIZE))
      throw fail(at, `${name} size ${size} is smaller than its header`);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(at, `${name} size ${size} is absurdly large`);
    return { size: Number(size), type, at };
  };
  const requireHeader = async (what: string): Promise<Header> => {
    const h = await readHeader();
    if (h === undefined) throw fail(r.offset, `truncated: the stream ends where ${what} is required`);
    return h;
  };
  const typeName = (h: Header): string => NAMES.get(h.type) ?? `unknown object type 0x${h.type.toString(16)}`;

  // caformat.h CaFormatXAttr: `name\0value`; cadecoder.c checks the name as the encoder does.
  const parseXattr = (body: Uint8Array, at: number): CatarXattr => {
    const nul = body.indexOf(0);
    const name = nul > 0 ? Buffer.from(body.subarray(0, nul)).toString() : '';
    const dot = name.indexOf('.');
    if (nul <= 0 || dot <= 0 || dot === name.length - 1 || nul > 255)
      throw fail(at, 'XATTR record without a valid name');
    return { name, value: body.subarray(nul + 1) };
  };

  let pending: Header | undefined;
  const stack: Frame[] = [];

  // Reads one node (ENTRY, metadata, PAYLOAD/SYMLINK/DEVICE); yields it; pushes directories.
  async function* node(filenameStart: number, hash: bigint): AsyncGenerator<CatarEntry, Item | undefined> {
    const h = await requireHeader('an ENTRY');
    if (h.type !== CA_FORMAT_ENTRY) throw fail(h.at, `expected ENTRY, found ${typeName(h)}`);
    if (h.size !== CA_FORMAT_ENTRY_SIZE)
      throw fail(h.at, `ENTRY size ${h.size} is not ${CA_FORMAT_ENTRY_SIZE}`);
    const b = await read(CA_FORMAT_ENTRY_SIZE - CA_FORMAT_HEADER_SIZE, h.at, 'an ENTRY');
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // caformat.h CaFormatEntry: feature_flags, mode, flags, uid, gid, mtime (le64 each).
    const mode64 = v.getBigUint64(8, true);
    const flags = v.getBigUint64(16, true);
    const uid = v.getBigUint64(24, true);
    const gid = v.getBigUint64(32, true);
    const mtimeNs = v.getBigUint64(40, true);
    const kind = mode64 <= 0o177777n ? KINDS.get(Number(mode64) & S_IFMT) : undefined;
    if (kind === undefined) throw fail(h.at, `ENTRY mode 0o${mode64.toString(8)} is not a known file type`);
    if (uid > 0xffffffffn || gid > 0xffffffffn)
      throw fail(h.at, `ENTRY uid ${uid}/gid ${gid} exceed 32 bits`);
    if (flags !== 0n) skip('chattr-flags');
    const base: CatarEntryBase = {
      path,
      mode: Number(mode64),
      uid: Number(uid),
      gid: Number(gid),
      mtimeNs,
      offset: h.at,
      xattrs: [],
    };

    let next = await readHeader();
    while (next !== undefined && (METADATA.has(next.type) || next.type === CA_FORMAT_XATTR)) {
      if (next.size > MAX_METADATA_SIZE)
        throw fail(next.at, `metadata object of ${next.size} bytes is absurdly large`);
      const body = await read(next.size - CA_FORMAT_HEADER_SIZE, next.at, 'a metadata object');
      if (next.type === CA_FORMAT_XATTR) base.xattrs.push(parseXattr(body, next.at));
      else skip(METADATA.get(next.type) as CatarSkippedKind);
      next = await readHeader();
    }

    const need = async (type: bigint, what: string): Promise<Header> => {
      if (next === undefined) throw fail(r.offset, `truncated: the stream ends where ${what} is required`);
      if (next.type !== type)
        throw fail(next.at, `expected ${what} after a ${kind} ENTRY, found ${typeName(next)}`);
      return next;
    };

    switch (kind) {
      case 'directory':
        pending = next;
        stack.push({ path, entryStart: h.at, filenameStart, hash, items: [], lastName: undefined });
        yield { ...base, kind };
        return undefined;
      case 'file': {
        const p = await need(CA_FORMAT_PAYLOAD, 'PAYLOAD');
        const size = p.size - CA_FORMAT_HEADER_SIZE;
        const state = { remaining: size, closed: false };
        const entryPath = path;
        const content = (async function* payload(): AsyncGenerator<Uint8Array> {
          // Checked before the loop too: once drained by the decoder, `remaining` is 0.
          while (state.closed || state.remaining > 0) {
            if (state.closed) {
              throw new InvalidArgument(
                `content of ${entryPath} was read after decodeCatar moved to the next entry`,
              );
            }
            checkAbort();
            const block = await r.readSome(state.remaining);
            if (block === undefined)
              throw fail(p.at, `truncated: the stream ends inside a PAYLOAD of ${size} bytes`);
            state.remaining -= block.length;
            yield block;
          }
        })();
        yield { ...base, kind, size, content };
        while (state.remaining > 0) {
          checkAbort();
          const block = await r.readSome(state.remaining);
          if (block === undefined)
            throw fail(p.at, `truncated: the stream ends inside a PAYLOAD of ${size} bytes`);
          state.remaining -= block.length;
        }
        state.closed = true;
        break;
      }
      case 'symlink': {
        const s = await need(CA_FORMAT_SYMLINK, 'SYMLINK');
        if (s.size > MAX_SYMLINK_SIZE) throw fail(s.at, `SYMLINK of ${s.size} bytes is absurdly large`);
        const t = await read(s.size - CA_FORMAT_HEADER_SIZE, s.at, 'a SYMLINK');
        // caformat.h CaFormatSymlink: target[] NUL-terminated, no NUL inside.
        const nul = t.indexOf(0);
        if (t.length < 2 || nul !== t.length - 1)
          throw fail(s.at, 'SYMLINK target is empty, not NUL-terminated or holds a NUL');
        let target: string;
        try {
          target = utf8.decode(t.subarray(0, -1));
        } catch {
          throw fail(s.at, 'SYMLINK target is not valid UTF-8');
        }
        yield { ...base, kind, target };
        break;
      }
      case 'device': {
        const d = await need(CA_FORMAT_DEVICE, 'DEVICE');
        if (d.size !== CA_FORMAT_HEADER_SIZE + 16) throw fail(d.at, `DEVICE size ${d.size} is not 32`);
        const body = await read(16, d.at, 'a DEVICE');
        const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
        const major = dv.getBigUint64(0, true);
        const minor = dv.getBigUint64(8, true);
        if (major > 0xffffffffn || minor > 0xffffffffn)
          throw fail(d.at, `DEVICE ${major}:${minor} exceeds 32 bits`);
        yield { ...base, kind, major: Number(major), minor: Number(minor) };
        break;
      }
      default:
        pending = next;
        yield { ...base, kind };
        break;
    }
    // The node ends where the next object starts: read already for FIFOs and sockets.
    let end: number;
    if (kind === 'file' || kind === 'symlink' || kind === 'device') {
      end = r.offset;
      pending = await readHeader();
    } else {
      end = next?.at ?? r.offset;
    }
    return { start: filenameStart, end, hash };
  }

  try {
    const rootItem = yield* node(-1, 0n);
    if (rootItem !== undefined && pending !== undefined)
      throw fail(pending.at, 'trailing data after the root node');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as Frame;
      path = frame.path;
      const h = pending ?? (await requireHeader('a FILENAME or GOODBYE'));
      pending = undefined;
      if (h.type === CA_FORMAT_FILENAME) {
        if (h.size > MAX_FILENAME_SIZE) throw fail(h.at, `FILENAME of ${h.size} bytes is absurdly large`);
        const raw = await read(h.size - CA_FORMAT_HEADER_SIZE, h.at, 'a FILENAME');
        // caformat.h CaFormatFilename: name[] NUL-terminated; cadecoder.c refuses names that
        // are empty, '.', '..' or hold '/', which would let an archive escape its root.
        if (raw.length < 1 || raw.indexOf(0) !== raw.length - 1)
          throw fail(h.at, 'FILENAME is not NUL-terminated or holds a NUL');
        const name = raw.subarray(0, -1);
        let text: string;
        try {
          text = utf8.decode(name);
        } catch {
          throw fail(h.at, 'FILENAME is not valid UTF-8');
        }
        if (text === '' || text === '.' || text === '..' || text.includes('/')) {
          throw fail(h.at, `FILENAME ${JSON.stringify(text)} is not a valid name`);
        }
        // casync writes children sorted by strcmp; equal or descending names mean duplicates
        // or a forged archive (a second 'x' could turn a symlink into a directory).
        if (frame.lastName !== undefined && Buffer.compare(frame.lastName, name) >= 0) {
          throw fail(h.at, `FILENAME ${JSON.stringify(text)} is out of order or repeated`);
        }
        frame.lastName = Uint8Array.from(name);
        path = frame.path === '' ? text : `${frame.path}/${text}`;
        const item = yield* node(h.at, siphash24(name, CA_FORMAT_GOODBYE_HASH_KEY));
        if (item !== undefined) frame.items.push(item);
      } else if (h.type === CA_FORMAT_GOODBYE) {
        // caencoder.c: one item per child plus the tail {offset to the ENTRY, size, marker}.
        const expected = CA_FORMAT_HEADER_SIZE + CA_FORMAT_GOODBYE_ITEM_SIZE * (frame.items.length + 1);
        if (h.size !== expected) {
          throw fail(
            h.at,
            `GOODBYE of ${h.size} bytes does not fit ${frame.items.length} entries (${expected} bytes)`,
          );
        }
        const body = await read(h.size - CA_FORMAT_HEADER_SIZE, h.at, 'a GOODBYE');
        checkGoodbye(body, h, frame);
        stack.pop();
        const parent = stack[stack.length - 1];
        if (parent !== undefined) {
          parent.items.push({ start: frame.filenameStart, end: r.offset, hash: frame.hash });
        } else if (!(await r.atEnd())) {
          throw fail(r.offset, 'trailing data after the root directory');
        }
      } else {
        throw fail(h.at, `expected FILENAME or GOODBYE, found ${typeName(h)}`);
      }
    }
  } finally {
    await r.close();
  }

  function checkGoodbye(body: Uint8Array, h: Header, frame: Frame): void {
    const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const tail = body.length - CA_FORMAT_GOODBYE_ITEM_SIZE;
    if (v.getBigUint64(tail + 16, true) !== CA_FORMAT_GOODBYE_TAIL_MARKER)
      throw fail(h.at, 'GOODBYE has no tail marker');
    if (v.getBigUint64(tail + 8, true) !== BigInt(h.size))
      throw fail(h.at, 'GOODBYE tail size does not match');
    if (v.getBigUint64(tail, true) !== BigInt(h.at - frame.entryStart)) {
      throw fail(h.at, 'GOODBYE tail does not point at its directory ENTRY');
    }
    const byStart = new Map(frame.items.map((i) => [i.start, i]));
    for (let at = 0; at < tail; at += CA_FORMAT_GOODBYE_ITEM_SIZE) {
      const start = h.at - Number(v.getBigUint64(at, true));
      const item = byStart.get(start);
      if (
        item === undefined ||
        v.getBigUint64(at + 8, true) !== BigInt(item.end - item.start) ||
        v.getBigUint64(at + 16, true) !== item.hash
      ) {
        throw fail(
          h.at,
          `GOODBYE item ${at / CA_FORMAT_GOODBYE_ITEM_SIZE} does not match an entry of the directory`,
        );
      }
      byStart.delete(start);
    }
  }
}
