import {
  CA_FORMAT_ENTRY_SIZE,
  CA_FORMAT_GOODBYE_ITEM_SIZE,
  CA_FORMAT_HEADER_SIZE,
  CatarFormatError,
  decodeCatar,
} from '@desync/catar';
import type { BlobReader } from './blob-reader.js';

/** One node of a mounted tree: what getattr, readdir, readlink and read need. */
export interface TreeNode {
  kind: 'directory' | 'file' | 'symlink' | 'device' | 'fifo' | 'socket';
  /** st_mode: file type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time in milliseconds since the epoch. */
  mtimeMs: number;
  /** File size; for symlinks the target's length in bytes; 0 otherwise. */
  size: number;
  /** Where the file's contents start in the blob (archive stream or plain blob). */
  payloadOffset: number;
  /** Symlink target. */
  target?: string;
  /** Device number (Linux encoding) of device nodes. */
  rdev: number;
  /** Names of a directory's children, in archive order. */
  children?: string[];
  /** Subdirectory count of a directory, for st_nlink (2 + subdirectories, as find expects). */
  subdirs: number;
  /** Extended attributes by name. */
  xattrs: Map<string, Uint8Array>;
}

/** A mounted tree: nodes by FUSE path ('/' for the root, '/a/b' below it). */
export type Tree = Map<string, TreeNode>;

/** Linux makedev (glibc sysmacros.h), for st_rdev of device nodes. */
function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

// casync caformat.h: a FILENAME object is a header plus the NUL-terminated name; a GOODBYE
// is a header plus one 24-byte item per child and a 24-byte tail. Objects are not padded.
const filenameSize = (name: string): number => CA_FORMAT_HEADER_SIZE + Buffer.byteLength(name) + 1;
const goodbyeSize = (children: number): number =>
  CA_FORMAT_HEADER_SIZE + CA_FORMAT_GOODBYE_ITEM_SIZE * (children + 1);

/**
 * Decodes the catar archive that `reader` reads once, start to end, and returns its metadata
 * table. Contents are not kept: each file records where its payload sits in the archive
 * stream, so a read of the mounted file is a read of the archive at that offset.
 *
 * decodeCatar does not report payload offsets, so they are derived from what follows each
 * file: its PAYLOAD ends where the next FILENAME starts (the next entry's ENTRY offset minus
 * the FILENAME's size), after the GOODBYE tables of every directory closed in between, or
 * at the end of the stream after the GOODBYEs of the directories still open.
 * @throws CatarFormatError when the archive is malformed or its root is not a directory.
 */
export async function buildArchiveTree(
  reader: BlobReader,
  name: string,
  signal?: AbortSignal,
): Promise<Tree> {
  const tree: Tree = new Map();
  let pending: { node: TreeNode; path: string; entryOffset: number } | undefined;

  // Bytes of GOODBYE tables between the end of a file in `fromDir` and the next object in
  // `toDir` (an ancestor of fromDir, or undefined for the end of the archive).
  const goodbyesBetween = (fromDir: string, toDir: string | undefined): number => {
    let bytes = 0;
    let dir = fromDir;
    for (;;) {
      if (dir === toDir) return bytes;
      const node = tree.get(dir) as TreeNode;
      bytes += goodbyeSize(node.children?.length ?? 0);
      if (dir === '/') {
        if (toDir !== undefined) throw new CatarFormatError(name, 0, dir, 'entries out of archive order');
        return bytes;
      }
      dir = parentOf(dir);
    }
  };
  const settle = (payloadEnd: number): void => {
    if (!pending) return;
    const { node, path, entryOffset } = pending;
    node.payloadOffset = payloadEnd - node.size;
    if (node.payloadOffset < entryOffset + CA_FORMAT_ENTRY_SIZE + CA_FORMAT_HEADER_SIZE) {
      throw new CatarFormatError(name, entryOffset, path.slice(1), 'PAYLOAD does not fit where it must be');
    }
    pending = undefined;
  };

  for await (const entry of decodeCatar(reader.stream(), { name, signal })) {
    const path = `/${entry.path}`;
    const parent = parentOf(path);
    if (entry.path === '') {
      if (entry.kind !== 'directory') {
        throw new CatarFormatError(name, entry.offset, '', 'the archive root is not a directory');
      }
    } else {
      const base = entry.path.slice(entry.path.lastIndexOf('/') + 1);
      if (pending) {
        settle(entry.offset - filenameSize(base) - goodbyesBetween(parentOf(pending.path), parent));
      }
      const dir = tree.get(parent) as TreeNode;
      dir.children?.push(base);
      if (entry.kind === 'directory') dir.subdirs++;
    }
    const node: TreeNode = {
      kind: entry.kind,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      mtimeMs: Number(entry.mtimeNs / 1_000_000n),
      size: 0,
      payloadOffset: 0,
      rdev: 0,
      subdirs: 0,
      xattrs: new Map(entry.xattrs.map((x) => [x.name, x.value])),
    };
    switch (entry.kind) {
      case 'directory':
        node.children = [];
        break;
      case 'file':
        node.size = entry.size;
        pending = { node, path, entryOffset: entry.offset };
        break;
      case 'symlink':
        node.target = entry.target;
        node.size = Buffer.byteLength(entry.target);
        break;
      case 'device':
        node.rdev = makedev(entry.major, entry.minor);
        break;
    }
    tree.set(path, node);
  }
  if (pending) settle(reader.size - goodbyesBetween(parentOf(pending.path), undefined));
  return tree;
}
