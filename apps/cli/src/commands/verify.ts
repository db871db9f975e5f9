import { type ChunkId, InvalidArgument, isPruneStore } from '@desync/core';
import { verifyStore } from '@desync/engine';
import { Flags } from '@oclif/core';
import { BaseCommand, openExistingStore } from '../base-command.js';
import { concurrencyFlag, jsonFlag, optionsForLocation, progressFlag, storeOptionFlags } from '../flags.js';
import { progressBar } from '../progress-bar.js';

export class VerifyCommand extends BaseCommand {
  static override description =
    'Check that every chunk in a store hashes to its id; with -r remove the ones that do not. With --json, the summary is one JSON object: {"checked", "invalid", "removed", "invalid-chunks": [{"id", "reason"}]}.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> -s /var/store',
    '<%= config.bin %> <%= command.id %> -s /var/store -r',
    '<%= config.bin %> <%= command.id %> -s /var/store --json',
  ];
  static override flags = {
    store: Flags.string({ char: 's', description: 'chunk store to check', required: true }),
    repair: Flags.boolean({ char: 'r', description: 'remove invalid chunks', default: false }),
    concurrency: concurrencyFlag,
    progress: progressFlag,
    json: jsonFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(VerifyCommand);
    const store = await openExistingStore(flags.store, optionsForLocation(flags.store, flags));
    const invalid: { id: ChunkId; reason: string }[] = [];
    try {
      if (!isPruneStore(store)) throw new InvalidArgument(`${flags.store} cannot list its chunks`);
      const r = await verifyStore({
        store,
        repair: flags.repair,
        concurrency: flags.concurrency,
        progress: progressBar('chunks', flags),
        onInvalid: (id, reason) => {
          invalid.push({ id, reason });
          this.logToStderr(`desync: chunk ${id} in ${store} is invalid: ${reason}`);
        },
      });
      if (flags.json) this.log(JSON.stringify({ ...r, 'invalid-chunks': invalid }));
      else this.log(`${r.checked} chunks checked, ${r.invalid} invalid, ${r.removed} removed`);
      if (r.invalid > r.removed) this.exit(4);
    } finally {
      await store.close();
    }
  }
}
