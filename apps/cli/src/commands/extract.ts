import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type ExtractBlobResult,
  extractBlob,
  loadIndex,
  openStoreChain,
  parseSeedArgument,
  type SeedSpec,
} from '@desync/engine';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  cacheFlag,
  concurrencyFlag,
  optionsForLocation,
  progressFlag,
  storeFlag,
  storeOpenOptions,
  storeOptionFlags,
} from '../flags.js';
import { progressBar } from '../progress-bar.js';

export class ExtractCommand extends BaseCommand {
  static override description =
    'Reassemble the blob an index describes from chunk stores. The output appears only when complete. Chunks are taken without fetching, when possible, from: all-zero runs (left as holes), the existing output, repeats within the output, and seeds (--seed, --seed-dir); every copied chunk is verified.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> -s /var/store image.caibx image.raw',
    '<%= config.bin %> <%= command.id %> -s /mnt/a -s /mnt/b -c /var/cache image.caibx image.raw',
    '<%= config.bin %> <%= command.id %> -s http://cdn/store --seed v1.raw.caibx v2.caibx v2.raw',
    '<%= config.bin %> <%= command.id %> -s /var/store --seed /dev/vg/old-root new.caibx new.raw',
    '<%= config.bin %> <%= command.id %> -s /var/store os-v2.caibx /dev/sdb   # a disk: written in place, only where it differs',
  ];
  static override args = {
    index: Args.string({
      description: 'blob index (.caibx): a path, an http(s):// or s3+http(s):// URL, or - for stdin',
      required: true,
    }),
    output: Args.string({
      description: 'file to write, or a block device (written in place, only where it differs)',
      required: true,
    }),
  };
  static override flags = {
    store: storeFlag,
    cache: cacheFlag,
    concurrency: concurrencyFlag,
    seed: Flags.string({
      description:
        'seed: X.caibx (its data is X), X.caibx=DATA, or a plain file or block device (chunked on the fly); repeatable',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'seed-dir': Flags.string({
      description: 'use every X.caibx in this directory whose data file X exists as a seed; repeatable',
      multiple: true,
      multipleNonGreedy: true,
    }),
    json: Flags.boolean({ description: 'print the statistics as one JSON object on stdout', default: false }),
    progress: progressFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ExtractCommand);
    const index = await loadIndex(args.index, optionsForLocation(args.index, flags));
    const seeds = [
      ...(flags.seed ?? []).map(parseSeedArgument),
      ...(await seedsInDirs(flags['seed-dir'] ?? [], args.index, args.output)),
    ];
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
        seeds,
        progress: progressBar(flags),
        signal: this.interrupt,
      });
      if (flags.json) this.log(JSON.stringify(r));
      else if (process.stderr.isTTY) this.logToStderr(summary(r));
    } finally {
      await store.close();
    }
  }
}

/** The seeds of --seed-dir: X.caibx with an existing X, except the index and output themselves. */
async function seedsInDirs(dirs: readonly string[], index: string, output: string): Promise<SeedSpec[]> {
  const skip = new Set([resolve(index), resolve(output)]);
  const found: SeedSpec[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir);
    for (const name of names.sort()) {
      if (!name.endsWith('.caibx')) continue;
      const idx = join(dir, name);
      const data = idx.slice(0, -'.caibx'.length);
      if (skip.has(resolve(idx)) || skip.has(resolve(data)) || !names.includes(name.slice(0, -6))) continue;
      found.push({ index: idx, file: data });
    }
  }
  return found;
}

function summary(r: ExtractBlobResult): string {
  const parts = Object.entries(r.bytesFrom).map(([origin, bytes]) => {
    const label =
      origin === 'zero'
        ? 'left as holes'
        : origin === 'existing'
          ? 'kept from the existing file'
          : origin === 'self'
            ? 'copied from repeats'
            : origin === 'seed'
              ? 'from seeds'
              : `from ${origin}`;
    return `${bytes} ${label}`;
  });
  return `${r.size} bytes in ${r.chunks} chunks: ${parts.join(', ') || 'nothing to do'}`;
}
