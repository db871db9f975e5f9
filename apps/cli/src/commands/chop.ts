import { chopFile, loadIndex, openWriteStore } from '@desync/engine';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  concurrencyFlag,
  optionsForLocation,
  progressFlag,
  storeOpenOptions,
  storeOptionFlags,
  writeStoreFlag,
} from '../flags.js';
import { progressBar } from '../progress-bar.js';

export class ChopCommand extends BaseCommand {
  static override description =
    'Store the chunks of a file, cut where an index says; every chunk must hash to the id the index gives.';
  static override examples = ['<%= config.bin %> <%= command.id %> -s /var/store image.caibx image.raw'];
  static override args = {
    index: Args.string({ description: 'blob index (.caibx) of the file', required: true }),
    file: Args.string({ description: 'file holding the blob', required: true }),
  };
  static override flags = {
    store: writeStoreFlag,
    concurrency: concurrencyFlag,
    progress: progressFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ChopCommand);
    const index = await loadIndex(args.index, optionsForLocation(args.index, flags));
    const store = await openWriteStore(flags.store, storeOpenOptions(flags));
    try {
      const r = await chopFile({
        index,
        input: args.file,
        store,
        concurrency: flags.concurrency,
        progress: progressBar(flags),
        signal: this.interrupt,
      });
      if (process.stderr.isTTY) this.logToStderr(`${r.chunks} chunks, ${r.stored} stored`);
    } finally {
      await store.close();
    }
  }
}
