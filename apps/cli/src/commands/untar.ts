import { InvalidArgument } from '@desync/core';
import { extractArchive, openStoreChain } from '@desync/engine';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { cacheFlag, concurrencyFlag, indexStoreFlag, storeOpenOptions, storeOptionFlags } from '../flags.js';

export class UntarCommand extends BaseCommand {
  static override description =
    'Restore a directory tree from a catar archive (a file, - for stdin) or, with -i, from a .caidx and the stores holding its chunks. Untrusted archives cannot write outside DIR.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> tree.catar /srv/restore',
    'cat tree.catar | <%= config.bin %> <%= command.id %> - /srv/restore',
    '<%= config.bin %> <%= command.id %> -i -s /var/store tree.caidx /srv/restore',
  ];
  static override args = {
    archive: Args.string({
      description: 'catar archive (- for stdin), or with -i the index (.caidx)',
      required: true,
    }),
    dir: Args.string({
      description: 'directory to restore into (created; must be empty unless --overwrite)',
      required: true,
    }),
  };
  static override flags = {
    index: Flags.boolean({
      char: 'i',
      description: 'ARCHIVE is a .caidx: read its chunks from the stores',
      default: false,
    }),
    store: indexStoreFlag,
    cache: cacheFlag,
    concurrency: concurrencyFlag,
    overwrite: Flags.boolean({ description: 'extract into a directory that is not empty', default: false }),
    'same-owner': Flags.boolean({
      description: 'restore owners (default when running as root); --no-same-owner skips them',
      allowNo: true,
    }),
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(UntarCommand);
    if (flags.index && !flags.store?.length)
      throw new InvalidArgument('untar -i needs the stores of the index: -s STORE');
    if (!flags.index && flags.store?.length)
      throw new InvalidArgument('-s is only used with -i (extract from an index)');
    const store = flags.index
      ? await openStoreChain({ stores: flags.store ?? [], cache: flags.cache, open: storeOpenOptions(flags) })
      : undefined;
    try {
      await extractArchive({
        path: args.archive,
        store,
        dir: args.dir,
        concurrency: flags.concurrency,
        overwrite: flags.overwrite,
        sameOwner: flags['same-owner'],
        signal: this.interrupt,
        onSkip: (kind) =>
          this.logToStderr(`desync: warning: the archive holds ${kind} data, which is not restored`),
        onWarning: (message) => this.logToStderr(`desync: warning: ${message}`),
      });
    } finally {
      await store?.close();
    }
  }
}
