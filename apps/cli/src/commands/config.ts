import { BaseCommand } from '../base-command.js';
import { loadConfig, maskedConfig } from '../config-file.js';
import { configFlag } from '../flags.js';

// What a flag left out and absent from the file falls back to (see flags.ts).
const BUILT_IN_DEFAULTS = { concurrency: 10, chunkSize: '16:64:256' };

export class ConfigCommand extends BaseCommand {
  static override description =
    'Print the effective configuration as JSON: the config file used (--config, DESYNC_CONFIG or ~/.config/desync/config.json), whether it exists, the defaults and the per-store settings. Secrets (httpAuth, clientKey, passwords in locations) are masked.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --config ./desync.json',
  ];
  static override flags = { config: configFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ConfigCommand);
    const loaded = loadConfig(flags.config);
    const masked = maskedConfig(loaded.config);
    const effective = {
      file: loaded.path,
      found: loaded.found,
      defaults: { ...BUILT_IN_DEFAULTS, ...masked.defaults },
      stores: masked.stores,
    };
    this.log(JSON.stringify(effective, null, 2));
  }
}
