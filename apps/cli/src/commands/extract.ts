import { extractBlob, openStoreChain } from '@desync/engine';
import { readIndex } from '@desync/index-format';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { cacheFlag, concurrencyFlag, storeFlag, storeOpenOptions, storeOptionFlags } from '../flags.js';
import { progressBar } from '../progress-bar.js';

export class ExtractCommand extends BaseCommand {
  static override description =
    'Reassemble the blob an index describes from chunk stores. The output appears only when complete; chunks already correct in an existing output are kept.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> -s /var/store image.caibx image.raw',
    '<%= config.bin %> <%= command.id %> -s /mnt/a -s /mnt/b -c /var/cache image.caibx image.raw',
  ];
  static override args = {
    index: Args.string({ description: 'blob index (.caibx)', required: true }),
    output: Args.string({ description: 'file to write', required: true }),
  };
  static override flags = {
    store: storeFlag,
    cache: cacheFlag,
    concurrency: concurrencyFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ExtractCommand);
    const index = await readIndex(args.index);
    const store = await openStoreChain({
      stores: flags.store,
      cache: flags.cache,
      open: storeOpenOptions(flags),
    });
    try {
      const r = await extractBlob({
        index,
        store,
        output: args.output,
        concurrency: flags.concurrency,
        progress: progressBar(),
        signal: this.interrupt,
      });
      if (process.stderr.isTTY) {
        this.logToStderr(
          `${r.size} bytes: ${r.fetchedChunks} chunks fetched, ${r.keptChunks} kept from the existing file, ${r.copiedChunks} copied`,
        );
      }
    } finally {
      await store.close();
    }
  }
}
