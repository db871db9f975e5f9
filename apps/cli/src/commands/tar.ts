import { createReadStream } from 'node:fs';
import { CATAR_UNIX_FLAGS, tarToCatar } from '@desync/catar';
import { describeSystemError, FileError, InvalidArgument } from '@desync/core';
import { makeArchive, makeArchiveIndex, openWriteStore } from '@desync/engine';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  chunkSizeFlag,
  chunkSizesFrom,
  concurrencyFlag,
  progressFlag,
  storeOpenOptions,
  storeOptionFlags,
} from '../flags.js';
import { refuseRemoteIndexOutput, withIndexOutput } from '../output.js';
import { progressBar } from '../progress-bar.js';

export class TarCommand extends BaseCommand {
  static override description =
    'Archive a directory tree as a catar (byte-identical to casync make with the same features), or with -i chunk the archive into a store and write a .caidx.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> tree.catar /srv/tree',
    '<%= config.bin %> <%= command.id %> - /srv/tree > tree.catar',
    '<%= config.bin %> <%= command.id %> -i -s /var/store tree.caidx /srv/tree',
    '<%= config.bin %> <%= command.id %> --input-format=tar tree.catar tree.tar',
    'tar -C /srv/tree -cf - . | <%= config.bin %> <%= command.id %> --input-format=tar -i -s /var/store tree.caidx -',
  ];
  static override args = {
    output: Args.string({
      description: 'archive to write (.catar, or - for stdout), or with -i the index (.caidx)',
      required: true,
    }),
    dir: Args.string({
      description: 'directory to archive, or with --input-format=tar the tar file (- for stdin)',
      required: true,
    }),
  };
  static override flags = {
    index: Flags.boolean({
      char: 'i',
      description: 'chunk the archive into a store and write an index',
      default: false,
    }),
    store: Flags.string({ char: 's', description: 'chunk store to write to (with -i)' }),
    'input-format': Flags.string({
      description:
        'what the source is: disk (a directory) or tar (a GNU/ustar/pax tar file, - for stdin, converted to the catar its extracted tree gives; contents are spooled to a temporary directory while it is read)',
      options: ['disk', 'tar'],
      default: 'disk',
    }),
    'chunk-size': chunkSizeFlag,
    concurrency: concurrencyFlag,
    progress: progressFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TarCommand);
    const signal = this.interrupt;
    const onWarning = (message: string) => this.logToStderr(`desync: warning: ${message}`);
    // From a tar, the archive bytes come from tarToCatar; `dir` then only names the source.
    const fromTar = flags['input-format'] === 'tar';
    const name = fromTar && args.dir === '-' ? 'standard input' : args.dir;
    const stream = fromTar
      ? tarToCatar(readInput(args.dir), { featureFlags: CATAR_UNIX_FLAGS, name, signal, onWarning })
      : undefined;
    if (!flags.index) {
      if (flags.store) throw new InvalidArgument('-s is only used with -i (write an index into a store)');
      await makeArchive({ dir: name, output: args.output, stream, signal, onWarning });
      return;
    }
    if (!flags.store) throw new InvalidArgument('tar -i needs a store: -s STORE');
    refuseRemoteIndexOutput(args.output);
    const store = await openWriteStore(flags.store, storeOpenOptions(flags));
    try {
      const r = await withIndexOutput(args.output, (indexPath) =>
        makeArchiveIndex({
          dir: name,
          stream,
          indexPath,
          store,
          chunkSizes: chunkSizesFrom(flags['chunk-size']),
          concurrency: flags.concurrency,
          progress: progressBar(flags),
          signal,
          onWarning,
        }),
      );
      if (process.stderr.isTTY)
        this.logToStderr(`${r.chunks} chunks, ${r.storedChunks} new in the store, ${r.size} bytes`);
    } finally {
      await store.close();
    }
  }
}

// The tar source: a file, or standard input for `-`.
function readInput(path: string): AsyncIterable<Uint8Array> {
  if (path === '-') return process.stdin;
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  return (async function* () {
    try {
      yield* stream;
    } catch (err) {
      throw new FileError(path, describeSystemError(err), { cause: err });
    }
  })();
}
