import { listFileChunks } from '@desync/engine';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { loadConfig } from '../config-file.js';
import { chunkSizeFlag, chunkSizesFrom, configFlag, jsonFlag } from '../flags.js';
import { writeLines } from '../output.js';

export class ChunkCommand extends BaseCommand {
  static override description =
    'Print the start offset, size and id of each chunk of a file, storing nothing. With --json, one JSON object per line: {"id", "offset", "size"}.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> image.raw',
    '<%= config.bin %> <%= command.id %> -m 32:128:512 image.raw',
    '<%= config.bin %> <%= command.id %> --json image.raw',
  ];
  static override args = { file: Args.string({ description: 'file to chunk', required: true }) };
  static override flags = { 'chunk-size': chunkSizeFlag, json: jsonFlag, config: configFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ChunkCommand);
    // -m may come from the file; a broken file is reported rather than silently ignored.
    loadConfig(flags.config);
    const chunks = listFileChunks({ input: args.file, chunkSizes: chunkSizesFrom(flags['chunk-size']) });
    const json = flags.json;
    await writeLines(
      (async function* () {
        for await (const c of chunks) {
          yield json
            ? JSON.stringify({ id: c.id, offset: c.start, size: c.size })
            : `${c.start} ${c.size} ${c.id}`;
        }
      })(),
    );
  }
}
