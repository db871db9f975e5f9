// The one module bin/run.js loads: oclif, every command and the hooks, bundled with their
// workspace packages into dist/bundle/desync.js (scripts/bundle.mjs). Starting from one
// file instead of hundreds of modules halves the CLI's start-up time.
export { execute } from '@oclif/core';
export { COMMANDS } from './commands.js';
export { commandNotFound } from './hooks.js';
export { prewarmFor } from './prewarm.js';
export { versionText } from './version.js';
