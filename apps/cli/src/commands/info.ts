import { type IndexInfo, indexInfo, loadIndex, openStoreChain } from '@desync/engine';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  concurrencyFlag,
  jsonFlag,
  lookupStoreFlag,
  optionsForLocation,
  storeOpenOptions,
  storeOptionFlags,
} from '../flags.js';

/**
 * The JSON form of `info`. Keys desync's own `info --format=json` prints keep its names and
 * meaning (`total`, `unique`, `in-store`, `size`, `chunk-size-*` from the header), so scripts
 * written for desync read it; the rest follow the same kebab-case.
 */
export function infoJson(info: IndexInfo): Record<string, unknown> {
  const json: Record<string, unknown> = {
    total: info.chunks,
    unique: info.uniqueChunks,
    size: info.blobSize,
    'unique-size': info.uniqueSize,
    'dedup-ratio': info.dedupRatio,
    'chunk-size-min': info.chunkSizeParams.min,
    'chunk-size-avg': info.chunkSizeParams.avg,
    'chunk-size-max': info.chunkSizeParams.max,
    'seen-chunk-size-min': info.chunkSizes.min,
    'seen-chunk-size-avg': info.chunkSizes.avg,
    'seen-chunk-size-max': info.chunkSizes.max,
    'feature-flags': `0x${info.featureFlags.toString(16)}`,
    features: info.features,
  };
  if (info.missing) {
    json['in-store'] = info.uniqueChunks - info.missing.chunks;
    json.missing = info.missing.chunks;
    json['missing-size'] = info.missing.size;
  }
  return json;
}

/** The human form of `info`: one `label: value` line per fact, values aligned. */
export function infoLines(info: IndexInfo): string[] {
  const rows: [string, string][] = [
    ['Blob size', `${info.blobSize} bytes`],
    ['Chunks', String(info.chunks)],
    ['Unique chunks', String(info.uniqueChunks)],
    ['Unique size', `${info.uniqueSize} bytes`],
    ['Dedup ratio', info.dedupRatio.toFixed(4)],
    [
      'Chunk sizes seen',
      `min ${info.chunkSizes.min}, avg ${info.chunkSizes.avg}, max ${info.chunkSizes.max} bytes`,
    ],
    [
      'Chunk size params',
      `${info.chunkSizeParams.min}:${info.chunkSizeParams.avg}:${info.chunkSizeParams.max} bytes`,
    ],
    ['Feature flags', `0x${info.featureFlags.toString(16)} ${info.features.join(' ')}`.trimEnd()],
  ];
  if (info.missing) {
    rows.push(['Chunks in store', String(info.uniqueChunks - info.missing.chunks)]);
    rows.push(['Missing chunks', `${info.missing.chunks} (${info.missing.size} bytes)`]);
  }
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
}

export class InfoCommand extends BaseCommand {
  static override description =
    "Show what an index holds: chunk counts, blob size, dedup, chunk sizes seen and the header parameters; with -s, how many unique chunks the stores lack. --json prints one object with desync info's keys (total, unique, size, in-store, chunk-size-min/avg/max) and more.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> image.caibx',
    '<%= config.bin %> <%= command.id %> -s /var/store --json image.caibx',
  ];
  static override args = {
    index: Args.string({ description: 'index file (.caibx or .caidx)', required: true }),
  };
  static override flags = {
    store: lookupStoreFlag,
    concurrency: concurrencyFlag,
    json: jsonFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(InfoCommand);
    const index = await loadIndex(args.index, optionsForLocation(args.index, flags));
    const store = flags.store?.length
      ? await openStoreChain({ stores: flags.store, open: storeOpenOptions(flags) })
      : undefined;
    try {
      const info = await indexInfo({ index, store, concurrency: flags.concurrency, signal: this.interrupt });
      if (flags.json) this.log(JSON.stringify(infoJson(info)));
      else for (const line of infoLines(info)) this.log(line);
    } finally {
      await store?.close();
    }
  }
}
