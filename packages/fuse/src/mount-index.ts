import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeSystemError, FeatureFlags, FileError, InvalidArgument, type Store } from '@desync/core';
import type { ChunkIndex } from '@desync/index-format';
import Fuse from 'fuse-native';
import { buildArchiveTree, type Tree, type TreeNode } from './archive-tree.js';
import { BlobReader } from './blob-reader.js';

/** Options of mountIndex. */
export interface MountIndexOptions {
  /** The index to mount: a blob index (.caibx) or an archive index (.caidx). */
  index: ChunkIndex;
  /** Where the chunks are (a StoreRouter or CacheStore for several stores). */
  store: Store;
  /** An existing, empty directory. */
  mountpoint: string;
  /**
   * Name of the one file a blob index shows (casync and desync use the index file name
   * without its extension); default 'blob'. Must not hold '/'. Not used for archives.
   */
  name?: string;
  /** Modification time of the blob file; default the time of mounting. */
  mtime?: Date;
  /** Plain chunk bytes kept in memory for reuse; default 64 MiB. */
  cacheBytes?: number;
  /**
   * Whether the index is an archive index; default: decided by its feature flags (an
   * archive index records the catar features it was made with, a blob index none).
   */
  archive?: boolean;
  /**
   * Called with each error a reader gets EIO for (a chunk that is missing, corrupt or cannot
   * be fetched; the error names the chunk and the store). The mount stays up. Default: ignored.
   */
  onError?: (err: Error) => void;
  /** Aborts decoding an archive index before the mount (not the mount itself). */
  signal?: AbortSignal;
}

/** A mounted index. */
export interface IndexMount {
  /** Absolute path of the mountpoint. */
  readonly mountpoint: string;
  /**
   * Unmounts (lazily, so open files do not block it: `fusermount -uz`, or `fusermount3 -uz`)
   * and releases the FUSE handle, which keeps the process alive while it is held. Idempotent;
   * after someone else unmounted it only releases the handle.
   * @throws FileError when the filesystem stays mounted.
   */
  unmount(): Promise<void>;
  /**
   * Resolves once the filesystem is no longer mounted: after unmount(), or after someone ran
   * `fusermount -u` on it (noticed within half a second; the handle is then released).
   */
  readonly unmounted: Promise<void>;
}

// Bits an archive index sets beyond a blob index's (casync caformat.h: a caidx records the
// catar features it was made with; a caibx only the hash and exclusion bits).
const BLOB_ONLY_FLAGS =
  FeatureFlags.SHA512_256 |
  FeatureFlags.EXCLUDE_FILE |
  FeatureFlags.EXCLUDE_NODUMP |
  FeatureFlags.EXCLUDE_SUBMOUNTS;

/** True when `index` describes a catar archive rather than a plain blob. */
export function isArchiveIndex(index: ChunkIndex): boolean {
  return (index.featureFlags & ~BLOB_ONLY_FLAGS) !== 0n;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const O_ACCMODE = 3;
const POLL_MS = 500;

/** True when `mountpoint` (absolute) is a mount point in /proc/self/mountinfo. */
async function isMounted(mountpoint: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  // proc(5): field 5 is the mount point, with space, tab, newline and backslash as octal escapes.
  return info.split('\n').some((line) => {
    const field = line.split(' ')[4];
    return (
      field !== undefined &&
      field.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8))) === mountpoint
    );
  });
}

async function checkMountpoint(mountpoint: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(mountpoint);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'mountpoint does not exist; create an empty directory first'
        : code === 'ENOTCONN'
          ? 'a dead FUSE mount is still there; run fusermount -u on it first'
          : `cannot use the mountpoint: ${describeSystemError(err)}`;
    throw new FileError(mountpoint, reason, { cause: err });
  }
  if (!info.isDirectory()) throw new FileError(mountpoint, 'mountpoint is not a directory');
  if ((await readdir(mountpoint)).length > 0) {
    throw new FileError(mountpoint, 'mountpoint is not empty; mount on an empty directory');
  }
  if (await isMounted(mountpoint)) throw new FileError(mountpoint, 'something is mounted there already');
}

function blobTree(reader: BlobReader, name: string, mtime: Date): Tree {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const common = {
    uid,
    gid,
    mtimeMs: mtime.getTime(),
    payloadOffset: 0,
    rdev: 0,
    subdirs: 0,
    xattrs: new Map(),
  };
  return new Map<string, TreeNode>([
    ['/', { ...common, kind: 'directory', mode: S_IFDIR | 0o555, size: 0, children: [name] }],
    [`/${name}`, { ...common, kind: 'file', mode: S_IFREG | 0o444, size: reader.size }],
  ]);
}

function statOf(node: TreeNode): Fuse.FuseStat {
  return {
    mode: node.mode,
    uid: node.uid,
    gid: node.gid,
    size: node.size,
    nlink: node.kind === 'directory' ? 2 + node.subdirs : 1,
    rdev: node.rdev,
    blksize: 4096,
    blocks: Math.ceil(node.size / 512),
    atime: node.mtimeMs,
    mtime: node.mtimeMs,
    ctime: node.mtimeMs,
  };
}

/**
 * Mounts an index read-only with FUSE: a blob index as a directory holding one file, an
 * archive index as the archived tree. Chunks are fetched when read (and kept in a bounded
 * cache); an archive is decoded once before the mount to build its metadata table.
 *
 * The filesystem is served by this process's event loop: read it from other processes. From
 * this one, synchronous fs calls into the mount hang, and so do async ones once all libuv
 * threadpool threads wait on the mount while the store needs one to read a chunk file.
 * @throws FileError when the mountpoint is missing, not an empty directory, or the mount fails.
 * @throws InvalidArgument for a bad name or cache size; CatarFormatError for a malformed
 *   archive; ChunkMissing, ChunkInvalid or StoreError when an archive chunk cannot be read.
 */
export async function mountIndex(options: MountIndexOptions): Promise<IndexMount> {
  const mountpoint = resolve(options.mountpoint);
  const name = options.name ?? 'blob';
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new InvalidArgument(`'${name}' cannot be a file name`);
  }
  const onError = options.onError ?? (() => undefined);
  const reader = new BlobReader({
    index: options.index,
    store: options.store,
    cacheBytes: options.cacheBytes,
  });
  await checkMountpoint(mountpoint);
  const archive = options.archive ?? isArchiveIndex(options.index);
  const tree = archive
    ? await buildArchiveTree(reader, name, options.signal)
    : blobTree(reader, name, options.mtime ?? new Date());

  const ops = fuseOperations(tree, reader, onError);
  const fuse = new Fuse(mountpoint, ops, {
    // fuse-native has no read-only option; its options are joined with ',' into one -o, so
    // this adds `ro` and the kernel refuses every write before it reaches us.
    fsname: 'desync,ro',
    subtype: 'desync',
    // The content never changes while mounted, so the page cache may keep it across opens.
    kernelCache: true,
    // A reply after fuse-native's timeout would land in a buffer reused by a later request;
    // slow stores are bounded by their own timeouts (--timeout, --error-retry) instead.
    timeout: false,
  });
  await new Promise<void>((resolveMount, reject) => {
    fuse.mount((err) =>
      err
        ? reject(
            new FileError(
              mountpoint,
              `cannot mount (${err.message}); check that /dev/fuse exists and fusermount is installed`,
              { cause: err },
            ),
          )
        : resolveMount(),
    );
  });

  let unmounting: Promise<void> | undefined;
  let unmounted: Promise<void> | undefined;
  const handle: IndexMount = {
    mountpoint,
    unmount() {
      unmounting ??= (async () => {
        if (await isMounted(mountpoint)) {
          const err = await fusermount(mountpoint);
          // Someone else may have unmounted it meanwhile: then only the release is left.
          if (err && (await isMounted(mountpoint))) {
            throw new FileError(mountpoint, `cannot unmount: ${err.message}`, { cause: err });
          }
        }
        await release(fuse);
      })();
      return unmounting;
    },
    get unmounted() {
      unmounted ??= new Promise<void>((done) => {
        const timer = setInterval(() => {
          isMounted(mountpoint).then(
            (mounted) => {
              if (mounted) return;
              clearInterval(timer);
              handle.unmount().then(done, done);
            },
            () => undefined,
          );
        }, POLL_MS);
        // Watching alone does not keep the process alive (the mount itself does).
        timer.unref();
      });
      return unmounted;
    },
  };
  return handle;
}

/**
 * Unmounts lazily (open files do not block it) with libfuse's setuid helper: `fusermount`
 * (libfuse 2, which fuse-native bundles) or `fusermount3`, whichever is installed.
 * Resolves to the last error, or undefined on success.
 */
async function fusermount(mountpoint: string): Promise<Error | undefined> {
  let failure: Error | undefined;
  for (const helper of ['fusermount', 'fusermount3']) {
    failure = await new Promise<Error | undefined>((done) =>
      execFile(helper, ['-uz', mountpoint], (err, _stdout, stderr) =>
        done(err ? new Error(stderr.trim() || err.message, { cause: err }) : undefined),
      ),
    );
    if (failure === undefined || (failure.cause as NodeJS.ErrnoException).code !== 'ENOENT') return failure;
  }
  return failure;
}

/**
 * Releases the fuse-native handle of a filesystem that is unmounted already: its FUSE thread
 * has ended, but the handle keeps the event loop alive until closed. fuse-native's close runs
 * `fusermount -uz` first (through the static Fuse.unmount, called synchronously) and skips the
 * release when that fails, as it does on a mountpoint that is not mounted; so Fuse.unmount is
 * replaced for that one call.
 */
function release(fuse: Fuse): Promise<void> {
  const original = Fuse.unmount;
  Fuse.unmount = (_mountpoint, cb) => process.nextTick(cb, null);
  try {
    return new Promise<void>((done) => fuse.unmount(() => done()));
  } finally {
    Fuse.unmount = original;
  }
}

/** The FUSE handlers serving `tree`; file contents are read through `reader`. */
function fuseOperations(tree: Tree, reader: BlobReader, onError: (err: Error) => void): Fuse.FuseOperations {
  const refuse = (...args: unknown[]): void => (args[args.length - 1] as (code: number) => void)(Fuse.EROFS);
  return {
    getattr(path, cb) {
      const node = tree.get(path);
      if (!node) return cb(Fuse.ENOENT);
      cb(0, statOf(node));
    },
    readdir(path, cb) {
      const node = tree.get(path);
      if (!node) return cb(Fuse.ENOENT);
      if (!node.children) return cb(Fuse.ENOTDIR);
      cb(0, ['.', '..', ...node.children]);
    },
    readlink(path, cb) {
      const node = tree.get(path);
      if (!node) return cb(Fuse.ENOENT);
      if (node.target === undefined) return cb(Fuse.EINVAL);
      cb(0, node.target);
    },
    open(path, flags, cb) {
      const node = tree.get(path);
      if (!node) return cb(Fuse.ENOENT);
      if ((flags & O_ACCMODE) !== 0) return cb(Fuse.EROFS);
      cb(0, 0);
    },
    release(_path, _fd, cb) {
      cb(0);
    },
    read(path, _fd, buf, len, pos, cb) {
      const node = tree.get(path);
      if (!node) return cb(Fuse.ENOENT);
      if (node.kind !== 'file') return cb(Fuse.EISDIR);
      const n = Math.min(len, node.size - pos);
      if (n <= 0) return cb(0);
      reader.readInto(buf.subarray(0, n), node.payloadOffset + pos).then(cb, (err: unknown) => {
        onError(err instanceof Error ? err : new Error(String(err)));
        cb(Fuse.EIO);
      });
    },
    getxattr(path, name, _position, cb) {
      const node = tree.get(path);
      if (!node) return cb(Fuse.ENOENT);
      const value = node.xattrs.get(name);
      cb(0, value === undefined ? null : Buffer.from(value));
    },
    listxattr(path, cb) {
      const node = tree.get(path);
      if (!node) return cb(Fuse.ENOENT);
      cb(0, [...node.xattrs.keys()]);
    },
    write: (_path, _fd, _buf, _len, _pos, cb) => cb(Fuse.EROFS),
    create: refuse,
    truncate: refuse,
    ftruncate: refuse,
    unlink: refuse,
    rename: refuse,
    link: refuse,
    symlink: refuse,
    mkdir: refuse,
    rmdir: refuse,
    mknod: refuse,
    chmod: refuse,
    chown: refuse,
    utimens: refuse,
    setxattr: refuse,
    removexattr: refuse,
  };
}
