import { fillCache, loadIndex, openStoreChain, openWriteStore } from '@desync/engine';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  concurrencyFlag,
  optionsForLocation,
  progressFlag,
  storeFlag,
  storeOpenOptions,
  storeOptionFlags,
} from '../flags.js';
import { progressBar } from '../progress-bar.js';

export class CacheCommand extends BaseCommand {
  static override description =
    'Fill a cache store with every chunk the given indexes need, from the stores of -s.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> -s /mnt/remote -c /var/cache a.caibx b.caibx',
  ];
  static override strict = false;
  static override args = {
    index: Args.string({ description: 'index files whose chunks to cache', required: true }),
  };
  static override flags = {
    store: storeFlag,
    cache: Flags.string({ char: 'c', description: 'store to fill', required: true }),
    concurrency: concurrencyFlag,
    progress: progressFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(CacheCommand);
    const indexes = await Promise.all(
      (argv as string[]).map((p) => loadIndex(p, optionsForLocation(p, flags))),
    );
    const store = await openStoreChain({ stores: flags.store, open: storeOpenOptions(flags) });
    const cache = await openWriteStore(flags.cache, storeOpenOptions(flags));
    try {
      const r = await fillCache({
        store,
        cache,
        indexes,
        concurrency: flags.concurrency,
        progress: progressBar('chunks', flags),
        signal: this.interrupt,
      });
      if (process.stderr.isTTY) this.logToStderr(`${r.chunks} chunks needed, ${r.fetched} fetched`);
    } finally {
      await Promise.all([store.close(), cache.close()]);
    }
  }
}
