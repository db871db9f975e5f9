import { listArchive, openStoreChain } from '@desync/engine';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  cacheFlag,
  indexStoreFlag,
  optionsForLocation,
  storeOpenOptions,
  storeOptionFlags,
} from '../flags.js';
import { writeLines } from '../output.js';

export class ListCommand extends BaseCommand {
  static override description =
    'List the entries of a catar archive, or of a .caidx read from its stores (like casync list): mode, size, path.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> tree.catar',
    '<%= config.bin %> <%= command.id %> -s /var/store tree.caidx',
  ];
  static override args = {
    archive: Args.string({ description: 'catar archive (- for stdin) or index (.caidx)', required: true }),
  };
  static override flags = {
    store: indexStoreFlag,
    cache: cacheFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ListCommand);
    const store = flags.store?.length
      ? await openStoreChain({ stores: flags.store, cache: flags.cache, open: storeOpenOptions(flags) })
      : undefined;
    try {
      const lines = listArchive({
        path: args.archive,
        store,
        open: optionsForLocation(args.archive, flags),
        signal: this.interrupt,
      });
      await writeLines(
        (async function* () {
          for await (const l of lines) yield `${l.mode} ${l.size} ${l.path}`;
        })(),
      );
    } finally {
      await store?.close();
    }
  }
}
