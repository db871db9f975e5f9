import { setFlagsFromString } from 'node:v8';
import { prewarmChunkWorkers } from '@desync/chunker';
import { prewarmEngineWorkers } from '@desync/engine';

/**
 * Starts the worker threads `make` or `extract` will use before oclif parses the command
 * line: they boot (tens of milliseconds) while the command starts. Unused ones (a bad
 * flag, --help) do not hold the process.
 */
export function prewarmFor(args: readonly string[]): void {
  if (args.includes('--help') || args.includes('-h')) return;
  if (args[0] === 'make') prewarmChunkWorkers();
  else if (args[0] === 'extract') {
    // extract's own JavaScript is glue around native zstd, SHA512/256 and pwrite: TurboFan's
    // background compiles of it (about 0.1 s of CPU, on cores the workers need) cost more
    // than the optimized code saves; 5-8% less CPU and wall time for 512 MiB to 2 GiB. Not
    // for make, whose chunk workers run more of their own JavaScript (6% slower there).
    setFlagsFromString('--max-opt=2');
    prewarmEngineWorkers();
  }
}
