import { loadIndex } from '@desync/engine';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { jsonFlag, optionsForLocation, storeOptionFlags } from '../flags.js';
import { writeLines } from '../output.js';

export class ListChunksCommand extends BaseCommand {
  static override description =
    'Print the id of every chunk an index references, in order. With --json, one JSON object per line: {"id", "offset", "size"}.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> image.caibx',
    '<%= config.bin %> <%= command.id %> --json image.caibx',
  ];
  static override args = {
    index: Args.string({ description: 'index file (.caibx or .caidx)', required: true }),
  };
  static override flags = { json: jsonFlag, ...storeOptionFlags };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ListChunksCommand);
    const index = await loadIndex(args.index, optionsForLocation(args.index, flags));
    // JSON lines rather than one array: a consumer can stream a huge index line by line.
    await writeLines(
      (function* () {
        for (let i = 0; i < index.length; i++) {
          if (!flags.json) {
            yield index.id(i);
            continue;
          }
          const c = index.chunk(i);
          yield JSON.stringify({ id: c.id, offset: c.start, size: c.size });
        }
      })(),
    );
  }
}
