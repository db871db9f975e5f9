import { createInterface } from 'node:readline/promises';
import { InvalidArgument, isPruneStore } from '@desync/core';
import { loadIndex, pruneStore } from '@desync/engine';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, openExistingStore } from '../base-command.js';
import { optionsForLocation, storeOptionFlags } from '../flags.js';

export class PruneCommand extends BaseCommand {
  static override description =
    'Remove every chunk of a store that none of the given indexes references. Asks first unless -y.';
  static override examples = ['<%= config.bin %> <%= command.id %> -s /var/store -y a.caibx b.caibx'];
  static override strict = false;
  static override args = {
    index: Args.string({ description: 'index files whose chunks are kept', required: true }),
  };
  static override flags = {
    store: Flags.string({ char: 's', description: 'chunk store to prune', required: true }),
    yes: Flags.boolean({ char: 'y', description: 'do not ask for confirmation', default: false }),
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(PruneCommand);
    const indexes = await Promise.all(
      (argv as string[]).map((p) => loadIndex(p, optionsForLocation(p, flags))),
    );
    const store = await openExistingStore(flags.store, optionsForLocation(flags.store, flags));
    try {
      if (!isPruneStore(store)) throw new InvalidArgument(`${flags.store} cannot list or remove chunks`);
      if (!flags.yes) {
        if (!process.stdin.isTTY)
          throw new InvalidArgument('prune needs confirmation: run it on a terminal or pass -y');
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(
          `Remove every chunk of ${store} not referenced by ${indexes.length} index(es)? [y/N] `,
        );
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) {
          this.logToStderr('desync: nothing removed');
          return;
        }
      }
      const r = await pruneStore({ store, indexes });
      this.log(`${r.removed} chunks removed, ${r.kept} kept`);
    } finally {
      await store.close();
    }
  }
}
