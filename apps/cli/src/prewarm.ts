import { prewarmChunkWorkers } from '@desync/chunker';
import { prewarmEngineWorkers } from '@desync/engine';

/**
 * Starts the worker threads `make` or `extract` will use before oclif parses the command
 * line: they boot (tens of milliseconds) while the command starts. Unused ones (a bad
 * flag, --help) do not hold the process.
 */
export function prewarmFor(args: readonly string[]): void {
  if (args.includes('--help') || args.includes('-h')) return;
  // (bin/run.js caps V8's tiers once these have booted.)
  if (args[0] === 'make') prewarmChunkWorkers();
  else if (args[0] === 'extract') prewarmEngineWorkers();
}
