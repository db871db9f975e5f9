#!/usr/bin/env node
'use strict';
// CommonJS, like everything in bin/ (bin/package.json): see load-cli.js.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { capTiers, loadCli } = require('./load-cli.js');

const workers = startWorkersEarly(process.argv.slice(2));
const { execute, prewarmFor, versionText } = loadCli(process.argv[2]);
// make and extract: no TurboFan once their workers have booted (see capTiers).
whenReady(workers, capTiers);

let args = process.argv.slice(2);
// casync runs its remote as `$CASYNC_REMOTE_PATH [--rate-limit-bps=N] pull - - - PATH`:
// oclif wants flags after the command, so options before `pull` move behind it.
const pull = args.indexOf('pull');
if (pull > 0 && args.slice(0, pull).every((a) => a.startsWith('--'))) {
  args = ['pull', ...args.slice(0, pull), ...args.slice(pull + 1)];
}
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  // oclif's own version line does not know which zstd codec this runtime loads.
  versionText().then(
    (text) => console.log(text),
    (err) => {
      console.error(`desync: ${err.message}`);
      process.exitCode = 1;
    },
  );
} else {
  prewarmFor(args);
  // The package's root and package.json given, oclif need not search the directories above.
  const root = join(__dirname, '..');
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  execute({ args, loadOptions: { root, pjson } });
}

/**
 * Starts the worker threads of make or extract before the bundle is loaded (its compile and
 * oclif's start-up keep the main thread busy for tens of milliseconds, while each worker boots
 * Node anew), with packages/chunker's prewarmWorkers (dist/bundle/worker-url.js, a few lines):
 * the bundle's prewarmFor finds them in the registry both share and starts none of its own.
 */
function startWorkersEarly(argv) {
  const script = { make: 'chunk-worker.js', extract: 'engine-worker.js' }[argv[0]];
  if (!script || argv.includes('--help') || argv.includes('-h')) return;
  const bundleDir = join(__dirname, '..', 'dist', 'bundle');
  const { prewarmWorkers } = require(join(bundleDir, 'worker-url.js'));
  const { availableParallelism } = require('node:os');
  const { pathToFileURL } = require('node:url');
  return prewarmWorkers(pathToFileURL(join(bundleDir, script)), availableParallelism());
}

/** Calls `then` once every worker has said it is ready (their first message of type 'ready'). */
function whenReady(workers, then) {
  if (!workers) return;
  let waiting = workers.length;
  for (const worker of workers) {
    const onMessage = (msg) => {
      if (msg?.type !== 'ready') return;
      worker.off('message', onMessage);
      if (--waiting === 0) then();
    };
    worker.on('message', onMessage);
  }
}
