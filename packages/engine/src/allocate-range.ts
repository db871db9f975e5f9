/** Allocates `length` bytes of file `fd` from `offset`; false when the file system cannot. */
export type AllocateRange = (fd: number, offset: number, length: number) => boolean;

let loaded: Promise<AllocateRange | undefined> | undefined;

/**
 * fallocate(2) from the optional @desync/linux-attrs addon, or undefined where it is not
 * built. Buffered writes into a sparse range make ext4 reserve its blocks page by page;
 * allocating each run of a batch first took a fifth off the writer's CPU (C, 512 MiB), and
 * allocating only what is written keeps all-zero chunks as holes.
 */
export function loadAllocateRange(): Promise<AllocateRange | undefined> {
  loaded ??= import('@desync/linux-attrs').then(
    (m) => (m.inodeFlagsAvailable() ? m.allocateRange : undefined),
    () => undefined,
  );
  return loaded;
}
