import { readFile } from 'node:fs/promises';
import { describeSystemError, FileError, InvalidArgument, type Store, StoreRouter } from '@desync/core';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, openExistingStore } from '../base-command.js';

/**
 * `desync pull - - INDEX STORE`: the remote end of casync's SSH protocol. casync (and desync's
 * ssh store) run `$CASYNC_REMOTE_PATH pull BASE ARCHIVE INDEX WSTORE [STORE...]` on the
 * host (casync-tool.c verb "pull"); chunk stores and an index file are served, so BASE and
 * ARCHIVE are `-`, and INDEX or the stores may be `-`.
 */
export class PullCommand extends BaseCommand {
  static override hidden = true;
  static override strict = false;
  static override usage = '<%= command.id %> - - INDEX|- STORE|- [STORE...]';
  static override description =
    "Serve chunks from stores, and an index file, over stdin/stdout with casync's remote protocol (read-only). casync and desync run this on the remote host for ssh stores and ssh:// indexes: set CASYNC_REMOTE_PATH=desync on the client.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> - - - /var/store',
    '<%= config.bin %> <%= command.id %> - - /srv/image.caibx -',
    'CASYNC_REMOTE_PATH=desync casync extract --store=host:/var/store image.caibx image.raw',
    'CASYNC_REMOTE_PATH=desync casync extract --store=host:/var/store host:/srv/image.caibx image.raw',
  ];
  static override args = {
    base: Args.string({ description: 'base directory to serve: must be -', required: true }),
    archive: Args.string({ description: 'archive to serve: must be -', required: true }),
    index: Args.string({ description: 'index file to serve, or -', required: true }),
    store: Args.string({
      description: 'chunk store to serve, or - (more stores may follow, asked in order)',
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
    await this.parse(PullCommand);
    // Positions from the raw arguments: oclif's parsed argv moves the `-` arguments around
    // (`- - INDEX -` came back as `- - - INDEX`). The only flag comes as `--rate-limit-bps=N`.
    const [base, archive, index, ...rest] = this.argv.filter((a) => !a.startsWith('--'));
    if (base !== '-' || archive !== '-') {
      throw new InvalidArgument(
        'pull serves chunk stores and index files only; the base and archive arguments must be -',
      );
    }
    const indexPath = index === '-' || index === '' ? undefined : index;
    const locations = rest.filter((s) => s !== '-' && s !== '');
    if (locations.length === 0 && !indexPath) {
      throw new InvalidArgument('pull needs a store or an index to serve: desync pull - - INDEX|- STORE|-');
    }
    // Read before HELLO: a wrong path fails here, in one line the client shows from stderr.
    let indexData: Uint8Array | undefined;
    if (indexPath) {
      try {
        indexData = await readFile(indexPath);
      } catch (err) {
        throw new FileError(indexPath, `cannot read the index: ${describeSystemError(err)}`, { cause: err });
      }
    }
    const stores: Store[] = [];
    try {
      for (const location of locations) stores.push(await openExistingStore(location));
      const store = stores.length <= 1 ? stores[0] : new StoreRouter(stores);
      const { servePull } = await import('@desync/store-ssh');
      await servePull(store, process.stdin, process.stdout, {
        peer: 'the pull client on stdin',
        endOutput: false,
        ...(indexData ? { index: async () => indexData } : {}),
      });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }
}
