import { CacheCommand } from './commands/cache.js';
import { CatCommand } from './commands/cat.js';
import { ChopCommand } from './commands/chop.js';
import { ChunkCommand } from './commands/chunk.js';
import { ChunkServerCommand } from './commands/chunk-server.js';
import { ConfigCommand } from './commands/config.js';
import { ExtractCommand } from './commands/extract.js';
import { InfoCommand } from './commands/info.js';
import { ListCommand } from './commands/list.js';
import { ListChunksCommand } from './commands/list-chunks.js';
import { MakeCommand } from './commands/make.js';
import { MountIndexCommand } from './commands/mount-index.js';
import { PruneCommand } from './commands/prune.js';
import { PullCommand } from './commands/pull.js';
import { TarCommand } from './commands/tar.js';
import { UntarCommand } from './commands/untar.js';
import { VerifyCommand } from './commands/verify.js';
import { VerifyIndexCommand } from './commands/verify-index.js';

/** Every desync subcommand, for oclif's explicit command discovery. */
export const COMMANDS = {
  cache: CacheCommand,
  cat: CatCommand,
  chop: ChopCommand,
  chunk: ChunkCommand,
  'chunk-server': ChunkServerCommand,
  config: ConfigCommand,
  extract: ExtractCommand,
  info: InfoCommand,
  list: ListCommand,
  'list-chunks': ListChunksCommand,
  make: MakeCommand,
  'mount-index': MountIndexCommand,
  prune: PruneCommand,
  pull: PullCommand,
  tar: TarCommand,
  untar: UntarCommand,
  verify: VerifyCommand,
  'verify-index': VerifyIndexCommand,
};
