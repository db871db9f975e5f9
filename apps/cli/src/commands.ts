import { CacheCommand } from './commands/cache.js';
import { CatCommand } from './commands/cat.js';
import { ChopCommand } from './commands/chop.js';
import { ChunkCommand } from './commands/chunk.js';
import { ExtractCommand } from './commands/extract.js';
import { ListCommand } from './commands/list.js';
import { ListChunksCommand } from './commands/list-chunks.js';
import { MakeCommand } from './commands/make.js';
import { PruneCommand } from './commands/prune.js';
import { TarCommand } from './commands/tar.js';
import { UntarCommand } from './commands/untar.js';
import { VerifyCommand } from './commands/verify.js';

/** Every desync subcommand, for oclif's explicit command discovery. */
export const COMMANDS = {
  cache: CacheCommand,
  cat: CatCommand,
  chop: ChopCommand,
  chunk: ChunkCommand,
  extract: ExtractCommand,
  list: ListCommand,
  'list-chunks': ListChunksCommand,
  make: MakeCommand,
  prune: PruneCommand,
  tar: TarCommand,
  untar: UntarCommand,
  verify: VerifyCommand,
};
