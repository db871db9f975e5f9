#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCli } from './load-cli.js';

const { execute, prewarmFor, versionText } = loadCli(process.argv[2]);

let args = process.argv.slice(2);
// casync runs its remote as `$CASYNC_REMOTE_PATH [--rate-limit-bps=N] pull - - - PATH`:
// oclif wants flags after the command, so options before `pull` move behind it.
const pull = args.indexOf('pull');
if (pull > 0 && args.slice(0, pull).every((a) => a.startsWith('--'))) {
  args = ['pull', ...args.slice(0, pull), ...args.slice(pull + 1)];
}
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  // oclif's own version line does not know which zstd codec this runtime loads.
  console.log(await versionText());
} else {
  prewarmFor(args);
  // The package's root and package.json given, oclif need not search the directories above.
  const root = fileURLToPath(new URL('..', import.meta.url));
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  await execute({ args, loadOptions: { root, pjson } });
}
