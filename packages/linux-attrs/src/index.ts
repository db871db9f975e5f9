import { createRequire } from 'node:module';

/** chattr(1) `d`: not to be dumped (linux/fs.h FS_NODUMP_FL); casync's EXCLUDE_NODUMP skips such nodes. */
export const FS_NODUMP_FL = 0x40;

interface Binding {
  getFlags(path: string | Buffer): number;
  setTimesNs(path: string | Buffer, sec: number, nsec: number): void;
  allocate?(fd: number, offset: number, length: number): boolean;
}

let binding: Binding | null | undefined;

function load(): Binding | null {
  if (binding !== undefined) return binding;
  try {
    // The addon is built at install time by node-gyp; without a compiler it is missing.
    binding = createRequire(import.meta.url)('../build/Release/linux_attrs.node') as Binding;
  } catch {
    binding = null;
  }
  return binding;
}

/** True when the native addon loaded, so inode flags can be read. */
export function inodeFlagsAvailable(): boolean {
  return load() !== null;
}

/**
 * The inode flags of a regular file or directory (FS_IOC_GETFLAGS), 0 on filesystems without
 * them; undefined when the addon is not built. Never call it on devices or FIFOs: opening
 * them can have side effects.
 * @throws Error with `errno` when the node cannot be opened.
 */
export function getInodeFlags(path: string | Buffer): number | undefined {
  return load()?.getFlags(path);
}

/**
 * Sets atime and mtime of `path` itself (symlinks are not followed) to `ns` nanoseconds since
 * the epoch, exactly; Node's utimes rounds to microseconds. Returns false when the addon is
 * not built (the caller falls back).
 * @throws Error with `errno` when the times cannot be set.
 */
export function setTimesNs(path: string | Buffer, ns: bigint): boolean {
  const b = load();
  if (!b) return false;
  b.setTimesNs(path, Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n));
  return true;
}

/**
 * Allocates `length` bytes of the open file `fd` from `offset` (fallocate(2), mode 0; the
 * range should lie inside the file's size, which then does not change). One call reserves
 * the blocks that buffered writes into a sparse range would reserve page by page. Returns
 * false when it cannot: no addon, or a file system or file that refuses fallocate (the
 * caller just writes).
 * @throws Error with `errno` for what a write would meet too: ENOSPC, EDQUOT, EIO, EFBIG, EBADF.
 */
export function allocateRange(fd: number, offset: number, length: number): boolean {
  return load()?.allocate?.(fd, offset, length) ?? false;
}
