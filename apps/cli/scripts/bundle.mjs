// Bundles the CLI (dist/bundle-entry.js) and the worker scripts of the packages it uses
// into dist/bundle/, so `desync` loads a few files instead of hundreds of modules.
// Native addons and the large lazily loaded SDKs stay outside: they are resolved at run
// time from this package's own dependencies (see package.json).
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
// A file inside a dependency's dist/ (its exports map lists only the package entry).
const distFile = (pkg, file) => join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', file);
const outdir = new URL('../dist/bundle/', import.meta.url).pathname;

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    desync: new URL('../dist/bundle-entry.js', import.meta.url).pathname,
    // Worker threads are started from a file next to the code that spawns them.
    'chunk-worker': distFile('@desync/chunker', 'chunk-worker.js'),
    'engine-worker': distFile('@desync/engine', 'engine-worker.js'),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
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
  // Bundled CommonJS (oclif and its dependencies) calls require() for Node's modules.
  banner: {
    js: "import { createRequire as __desyncCreateRequire } from 'node:module'; const require = __desyncCreateRequire(import.meta.url);",
  },
});
