import { listFileChunks } from '@desync/engine';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { chunkSizeFlag, chunkSizesFrom } from '../flags.js';
import { writeLines } from '../output.js';

export class ChunkCommand extends BaseCommand {
  static override description =
    'Print the start offset, size and id of each chunk of a file, storing nothing.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> image.raw',
    '<%= config.bin %> <%= command.id %> -m 32:128:512 image.raw',
  ];
  static override args = { file: Args.string({ description: 'file to chunk', required: true }) };
  static override flags = { 'chunk-size': chunkSizeFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ChunkCommand);
    const chunks = listFileChunks({ input: args.file, chunkSizes: chunkSizesFrom(flags['chunk-size']) });
    await writeLines(
      (async function* () {
        for await (const c of chunks) yield `${c.start} ${c.size} ${c.id}`;
      })(),
    );
  }
}
