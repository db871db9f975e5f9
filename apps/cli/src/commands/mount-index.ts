import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { describeSystemError, FileError, InvalidArgument } from '@desync/core';
import { loadIndex, openStoreChain } from '@desync/engine';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { cacheFlag, optionsForLocation, storeFlag, storeOpenOptions, storeOptionFlags } from '../flags.js';

/** Resolves once `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export class MountIndexCommand extends BaseCommand {
  static override description =
    'Mount an index read-only with FUSE, fetching chunks as they are read: a blob index (.caibx) shows as one file named after the index, an archive index (.caidx) as the archived tree. Stays up until SIGINT/SIGTERM or `fusermount -u MOUNTPOINT`.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> -s /var/store image.caibx /mnt/image   # then: cat /mnt/image/image',
    '<%= config.bin %> <%= command.id %> -s http://cs.example.com/store -c /var/cache image.caibx /mnt/image',
    '<%= config.bin %> <%= command.id %> -s /var/store tree.caidx /mnt/tree',
    'fusermount -u /mnt/image',
  ];
  static override args = {
    index: Args.string({ description: 'index to mount (.caibx or .caidx)', required: true }),
    mountpoint: Args.string({ description: 'an existing, empty directory', required: true }),
  };
  static override flags = {
    store: storeFlag,
    cache: cacheFlag,
    'cache-size': Flags.integer({
      description: 'MiB of plain chunks kept in memory for reuse',
      default: 64,
      min: 0,
    }),
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MountIndexCommand);
    const stop = this.interrupt;
    const index = await loadIndex(args.index, optionsForLocation(args.index, flags));
    // An index URL names the file after its last path segment, like a path does.
    const path = /^[a-z][a-z0-9+.-]*:\/\//i.test(args.index) ? new URL(args.index).pathname : args.index;
    const name = basename(path, extname(path));
    if (name === '' || name === '.' || name === '..') {
      throw new InvalidArgument(`cannot name a file after the index ${args.index}`);
    }
    // The index file's mtime; now for an index read from a URL or standard input.
    const mtime =
      path === args.index && args.index !== '-'
        ? await stat(args.index).then(
            (s) => s.mtime,
            (err) => {
              throw new FileError(args.index, describeSystemError(err), { cause: err });
            },
          )
        : new Date();
    const store = await openStoreChain({
      stores: flags.store,
      cache: flags.cache,
      open: storeOpenOptions(flags),
    });
    try {
      // fuse-native loads only for this command.
      const { mountIndex } = await import('@desync/fuse');
      const mount = await mountIndex({
        index,
        store,
        mountpoint: args.mountpoint,
        name,
        mtime,
        cacheBytes: flags['cache-size'] * 1024 * 1024,
        signal: stop,
        // The reader gets EIO; the log says which chunk in which store.
        onError: (err) => this.logToStderr(`desync: ${err.message}`),
      });
      this.logToStderr(`mounted ${args.index} at ${args.mountpoint}`);
      await Promise.race([aborted(stop), mount.unmounted]);
      await mount.unmount();
    } finally {
      await store.close();
    }
  }
}
