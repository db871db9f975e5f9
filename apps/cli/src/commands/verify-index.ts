import { ChunkMissing, DataMismatch } from '@desync/core';
import { loadIndex, openStoreChain, type VerifyIndexResult, verifyIndex } from '@desync/engine';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import {
  concurrencyFlag,
  lookupStoreFlag,
  optionsForLocation,
  progressFlag,
  storeOpenOptions,
  storeOptionFlags,
} from '../flags.js';
import { progressBar } from '../progress-bar.js';

/** Why `file` does not match `index`, in one line; undefined when it matches. */
export function describeMismatch(r: VerifyIndexResult, index: string, file: string): string | undefined {
  if (!r.mismatch && !r.sizeDiffers) return undefined;
  const parts: string[] = [];
  if (r.mismatch) {
    const m = r.mismatch;
    parts.push(
      `chunk ${m.chunk} at offset ${m.offset} (${m.size} bytes) is ${m.actual}, the index says ${m.expected}`,
    );
  }
  if (r.sizeDiffers) parts.push(`the file is ${r.fileSize} bytes, the index describes ${r.blobSize}`);
  return `${file} does not match ${index}: ${parts.join('; ')}`;
}

export class VerifyIndexCommand extends BaseCommand {
  static override description =
    'Check that a file is the blob an index describes: its size and the SHA512/256 of every chunk. Prints OK, or names the first chunk that differs and exits non-zero. With -s, also checks that the stores hold every chunk.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> image.caibx image.raw',
    '<%= config.bin %> <%= command.id %> -s /var/store image.caibx image.raw',
  ];
  static override args = {
    index: Args.string({ description: 'blob index (.caibx)', required: true }),
    file: Args.string({ description: 'file to check against the index', required: true }),
  };
  static override flags = {
    store: lookupStoreFlag,
    concurrency: concurrencyFlag,
    progress: progressFlag,
    ...storeOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VerifyIndexCommand);
    const index = await loadIndex(args.index, optionsForLocation(args.index, flags));
    const store = flags.store?.length
      ? await openStoreChain({ stores: flags.store, open: storeOpenOptions(flags) })
      : undefined;
    try {
      const r = await verifyIndex({
        index,
        file: args.file,
        store,
        concurrency: flags.concurrency,
        progress: progressBar(flags),
        signal: this.interrupt,
      });
      const mismatch = describeMismatch(r, args.index, args.file);
      if (mismatch) throw new DataMismatch(mismatch);
      if (store && r.missing?.length) {
        throw new ChunkMissing(
          r.missing[0],
          `${store} (${r.missing.length} chunks of the index are missing)`,
        );
      }
      this.log(`OK: ${args.file} matches ${args.index} (${r.chunks} chunks, ${r.blobSize} bytes)`);
    } finally {
      await store?.close();
    }
  }
}
