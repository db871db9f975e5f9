#!/usr/bin/env node
import { execute } from '@oclif/core';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  // oclif's own version line does not know which zstd codec this runtime loads.
  const { versionText } = await import('../dist/version.js');
  console.log(await versionText());
} else {
  await execute({ dir: import.meta.url });
}
