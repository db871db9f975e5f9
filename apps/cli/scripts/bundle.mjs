// Bundles the CLI (dist/bundle-entry.js) and the worker scripts of the packages it uses
// into dist/bundle/, so `desync` loads a few files instead of hundreds of modules.
// Native addons and the large lazily loaded SDKs stay outside: they are resolved at run
// time from this package's own dependencies (see package.json).
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
// A file inside a dependency's dist/ (its exports map lists only the package entry).
const distFile = (pkg, file) => join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', file);
const outdir = new URL('../dist/bundle/', import.meta.url).pathname;

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  external: [
    'zstd-napi',
    '@bokuweb/zstd-wasm',
    'fs-xattr',
    '@desync/linux-attrs',
    '@desync/sha512-mb',
    'fuse-native',
    'ssh2',
    '@aws-sdk/*',
    // oclif loads TypeScript only to run commands from .ts sources, never here.
    'typescript',
  ],
};

await rm(outdir, { recursive: true, force: true });
// The CLI is one CommonJS file: on Node 20, which has no module compile cache, bin/load-cli.js
// runs it from V8 code it cached on disk (vm.Script), which halves its start-up. import()
// fails in code run that way, so each import( becomes __dimp( (same length: the source map
// holds), the import function bin/load-cli.js hands in, else the bundle's own import().
const cli = join(outdir, 'desync.cjs');
await build({
  ...common,
  entryPoints: { desync: new URL('../dist/bundle-entry.js', import.meta.url).pathname },
  outdir,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // The packages find their workers and addons next to import.meta.url: the bundle's own URL.
  define: { 'import.meta.url': '__desyncBundleUrl' },
  banner: {
    js: [
      "const __desyncBundleUrl = require('node:url').pathToFileURL(__filename).href;",
      "const __dimp = globalThis[Symbol.for('desync.import')] ?? ((specifier) => import(specifier));",
      '// end of banner',
    ].join('\n'),
  },
});
const text = await readFile(cli, 'utf8');
const bodyStart = text.indexOf('// end of banner');
await writeFile(
  cli,
  text.slice(0, bodyStart) + text.slice(bodyStart).replace(/(?<![\w$.'"`])import\(/g, '__dimp('),
);
// Worker threads are started from a file next to the code that spawns them.
await build({
  ...common,
  entryPoints: {
    'chunk-worker': distFile('@desync/chunker', 'chunk-worker.js'),
    'engine-worker': distFile('@desync/engine', 'engine-worker.js'),
  },
  outdir,
  splitting: true,
  format: 'esm',
  // Bundled CommonJS calls require() for Node's modules.
  banner: {
    js: "import { createRequire as __desyncCreateRequire } from 'node:module'; const require = __desyncCreateRequire(import.meta.url);",
  },
});
