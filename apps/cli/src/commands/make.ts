import { makeBlob, openWriteStore } from '@desync/engine';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  chunkSizeFlag,
  chunkSizesFrom,
  progressFlag,
  storeOpenOptions,
  storeOptionFlags,
  writeStoreFlag,
} from '../flags.js';
import { refuseRemoteIndexOutput, withIndexOutput } from '../output.js';
import { progressBar } from '../progress-bar.js';

export class MakeCommand extends BaseCommand {
  static override description =
    'Chunk a file into a store and write its blob index (.caibx), identical to casync make.';
  static override examples = ['<%= config.bin %> <%= command.id %> -s /var/store image.caibx image.raw'];
  static override args = {
    index: Args.string({ description: 'index file to write (.caibx), or - for stdout', required: true }),
    file: Args.string({ description: 'file to chunk', required: true }),
  };
  static override flags = {
    store: writeStoreFlag,
    'chunk-size': chunkSizeFlag,
    concurrency: Flags.integer({
      char: 'n',
      description: 'worker threads (default: number of CPUs)',
      min: 1,
    }),
    progress: progressFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MakeCommand);
    refuseRemoteIndexOutput(args.index);
    const store = await openWriteStore(flags.store, storeOpenOptions(flags));
    try {
      const r = await withIndexOutput(args.index, (indexPath) =>
        makeBlob({
          input: args.file,
          indexPath,
          store,
          chunkSizes: chunkSizesFrom(flags['chunk-size']),
          concurrency: flags.concurrency,
          progress: progressBar(flags),
          signal: this.interrupt,
        }),
      );
      if (process.stderr.isTTY) {
        this.logToStderr(`${r.chunks} chunks, ${r.storedChunks} new in the store, ${r.size} bytes`);
      }
    } finally {
      await store.close();
    }
  }
}
