import { InvalidArgument } from '@desync/core';
import { makeArchive, makeArchiveIndex, openWriteStore } from '@desync/engine';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  chunkSizeFlag,
  chunkSizesFrom,
  concurrencyFlag,
  storeOpenOptions,
  storeOptionFlags,
} from '../flags.js';
import { progressBar } from '../progress-bar.js';

export class TarCommand extends BaseCommand {
  static override description =
    'Archive a directory tree as a catar (byte-identical to casync make with the same features), or with -i chunk the archive into a store and write a .caidx.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> tree.catar /srv/tree',
    '<%= config.bin %> <%= command.id %> - /srv/tree > tree.catar',
    '<%= config.bin %> <%= command.id %> -i -s /var/store tree.caidx /srv/tree',
  ];
  static override args = {
    output: Args.string({
      description: 'archive to write (.catar, or - for stdout), or with -i the index (.caidx)',
      required: true,
    }),
    dir: Args.string({ description: 'directory to archive', required: true }),
  };
  static override flags = {
    index: Flags.boolean({
      char: 'i',
      description: 'chunk the archive into a store and write an index',
      default: false,
    }),
    store: Flags.string({ char: 's', description: 'chunk store to write to (with -i)' }),
    'chunk-size': chunkSizeFlag,
    concurrency: concurrencyFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TarCommand);
    const signal = this.interrupt;
    if (!flags.index) {
      if (flags.store) throw new InvalidArgument('-s is only used with -i (write an index into a store)');
      await makeArchive({ dir: args.dir, output: args.output, signal });
      return;
    }
    if (!flags.store) throw new InvalidArgument('tar -i needs a store: -s STORE');
    if (args.output === '-') throw new InvalidArgument('tar -i writes an index file; give its path, not -');
    const store = await openWriteStore(flags.store, storeOpenOptions(flags));
    try {
      const r = await makeArchiveIndex({
        dir: args.dir,
        indexPath: args.output,
        store,
        chunkSizes: chunkSizesFrom(flags['chunk-size']),
        concurrency: flags.concurrency,
        progress: progressBar(),
        signal,
      });
      if (process.stderr.isTTY)
        this.logToStderr(`${r.chunks} chunks, ${r.storedChunks} new in the store, ${r.size} bytes`);
    } finally {
      await store.close();
    }
  }
}
