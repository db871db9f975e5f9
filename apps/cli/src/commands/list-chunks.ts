import { readIndex } from '@desync/index-format';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { writeLines } from '../output.js';

export class ListChunksCommand extends BaseCommand {
  static override description = 'Print the id of every chunk an index references, in order.';
  static override examples = ['<%= config.bin %> <%= command.id %> image.caibx'];
  static override args = {
    index: Args.string({ description: 'index file (.caibx or .caidx)', required: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(ListChunksCommand);
    const index = await readIndex(args.index);
    await writeLines(
      (function* () {
        for (let i = 0; i < index.length; i++) yield index.id(i);
      })(),
    );
  }
}
