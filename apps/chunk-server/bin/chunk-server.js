#!/usr/bin/env node
// Filled in by the chunk-server work: starts createChunkServer from the CLI flags.
console.error('desync-chunk-server: not built yet');
process.exit(1);
