import { InvalidArgument, type Store, StoreRouter } from '@desync/core';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, openExistingStore } from '../base-command.js';

/**
 * `desync pull - - - STORE`: the remote end of casync's SSH protocol. casync (and desync's
 * ssh store) run `$CASYNC_REMOTE_PATH pull BASE ARCHIVE INDEX WSTORE [STORE...]` on the
 * host (casync-tool.c verb "pull"); only chunk stores are served, so the first three are `-`.
 */
export class PullCommand extends BaseCommand {
  static override hidden = true;
  static override strict = false;
  static override usage = '<%= command.id %> - - - STORE [STORE...]';
  static override description =
    "Serve chunks from stores over stdin/stdout with casync's remote protocol (read-only). casync and desync run this on the remote host for ssh stores: set CASYNC_REMOTE_PATH=desync on the client.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> - - - /var/store',
    'CASYNC_REMOTE_PATH=desync casync extract --store=host:/var/store image.caibx image.raw',
  ];
  static override args = {
    base: Args.string({ description: 'base directory to serve: must be -', required: true }),
    archive: Args.string({ description: 'archive to serve: must be -', required: true }),
    index: Args.string({ description: 'index to serve: must be -', required: true }),
    store: Args.string({
      description: 'chunk store to serve (more stores may follow, asked in order)',
      required: true,
    }),
  };
  static override flags = {
    'rate-limit-bps': Flags.integer({
      description: 'accepted for casync compatibility; not enforced',
      hidden: true,
    }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(PullCommand);
    const [base, archive, index, ...rest] = argv as string[];
    if (base !== '-' || archive !== '-') {
      throw new InvalidArgument('pull serves chunk stores only; the base and archive arguments must be -');
    }
    if (index !== '-')
      throw new InvalidArgument('pull serves chunk stores only; the index argument must be -');
    const locations = rest.filter((s) => s !== '-' && s !== '');
    if (locations.length === 0)
      throw new InvalidArgument('pull needs a store to serve: desync pull - - - STORE');
    const stores: Store[] = [];
    try {
      for (const location of locations) stores.push(await openExistingStore(location));
      const store = stores.length === 1 ? stores[0] : new StoreRouter(stores);
      const { servePull } = await import('@desync/store-ssh');
      await servePull(store, process.stdin, process.stdout, {
        peer: 'the pull client on stdin',
        endOutput: false,
      });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }
}
