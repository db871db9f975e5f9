import { InvalidArgument } from '@desync/core';
import { loadIndex, openStoreChain, readBlob } from '@desync/engine';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  cacheFlag,
  concurrencyFlag,
  optionsForLocation,
  storeFlag,
  storeOpenOptions,
  storeOptionFlags,
} from '../flags.js';
import { writeChunks } from '../output.js';

function byteCount(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InvalidArgument(`${name} must be a number of bytes, got '${value}'`);
  return Number(value);
}

export class CatCommand extends BaseCommand {
  static override description = 'Write the blob an index describes (or a range of it) to standard output.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> -s /var/store image.caibx > image.raw',
    '<%= config.bin %> <%= command.id %> -s /var/store image.caibx 4096 512 | xxd',
  ];
  static override args = {
    index: Args.string({ description: 'blob index (.caibx)', required: true }),
    offset: Args.string({ description: 'first byte to write' }),
    length: Args.string({ description: 'number of bytes to write' }),
  };
  static override flags = {
    store: storeFlag,
    cache: cacheFlag,
    concurrency: concurrencyFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(CatCommand);
    const offset = byteCount('OFFSET', args.offset);
    const length = byteCount('LENGTH', args.length);
    const index = await loadIndex(args.index, optionsForLocation(args.index, flags));
    const store = await openStoreChain({
      stores: flags.store,
      cache: flags.cache,
      open: storeOpenOptions(flags),
    });
    try {
      await writeChunks(readBlob({ index, store, offset, length, concurrency: flags.concurrency }));
    } finally {
      await store.close();
    }
  }
}
