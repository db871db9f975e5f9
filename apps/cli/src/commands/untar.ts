import { InvalidArgument } from '@desync/core';
import { archiveToTar, extractArchive, openStoreChain } from '@desync/engine';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  cacheFlag,
  concurrencyFlag,
  indexStoreFlag,
  optionsForLocation,
  storeOpenOptions,
  storeOptionFlags,
} from '../flags.js';

export class UntarCommand extends BaseCommand {
  static override description =
    'Restore a directory tree from a catar archive (a file, - for stdin) or, with -i, from a .caidx and the stores holding its chunks. Untrusted archives cannot write outside DIR.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> tree.catar /srv/restore',
    'cat tree.catar | <%= config.bin %> <%= command.id %> - /srv/restore',
    '<%= config.bin %> <%= command.id %> -i -s /var/store tree.caidx /srv/restore',
    '<%= config.bin %> <%= command.id %> --output-format=tar tree.catar tree.tar',
    '<%= config.bin %> <%= command.id %> --output-format=tar -i -s /var/store tree.caidx - | tar -tvf -',
  ];
  static override args = {
    archive: Args.string({
      description: 'catar archive (- for stdin), or with -i the index (.caidx)',
      required: true,
    }),
    dir: Args.string({
      description:
        'directory to restore into (created; must be empty unless --overwrite), or with --output-format=tar the tar to write (- for stdout)',
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
    'output-format': Flags.string({
      description:
        'what to write: disk (a directory tree) or tar (a POSIX pax tar stream to a file, - for stdout; sockets are left out)',
      options: ['disk', 'tar'],
      default: 'disk',
    }),
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
    const toTar = flags['output-format'] === 'tar';
    if (toTar && (flags.overwrite || flags['same-owner'] !== undefined))
      throw new InvalidArgument('--overwrite and --same-owner apply to --output-format=disk only');
    const store = flags.index
      ? await openStoreChain({ stores: flags.store ?? [], cache: flags.cache, open: storeOpenOptions(flags) })
      : undefined;
    try {
      if (toTar) {
        await archiveToTar({
          path: args.archive,
          store,
          open: optionsForLocation(args.archive, flags),
          output: args.dir,
          concurrency: flags.concurrency,
          signal: this.interrupt,
          onSkip: (kind) =>
            this.logToStderr(`desync: warning: the archive holds ${kind} data, which a tar does not get`),
          onWarning: (message) => this.logToStderr(`desync: warning: ${message}`),
        });
        return;
      }
      await extractArchive({
        path: args.archive,
        store,
        open: optionsForLocation(args.archive, flags),
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
