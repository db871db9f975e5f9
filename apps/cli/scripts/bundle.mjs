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

// Every bundle is CommonJS: the packages find their workers and addons next to
// import.meta.url, which becomes the bundle's own URL (BUNDLE_URL, in each banner).
const BUNDLE_URL = "const __desyncBundleUrl = require('node:url').pathToFileURL(__filename).href;";
const common = {
  bundle: true,
  format: 'cjs',
  define: { 'import.meta.url': '__desyncBundleUrl' },
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  external: [
    'zstd-napi',
    '@bokuweb/zstd-wasm',
    'fs-xattr',
    '@desync/linux-attrs',
    'fuse-native',
    'ssh2',
    '@aws-sdk/*',
    // oclif loads TypeScript only to run commands from .ts sources, never here.
    'typescript',
  ],
};

/**
 * An esbuild plugin that replaces `from` with `to` in the dependency files `filter` matches,
 * failing the build when `from` is no longer there (an upgrade changed the code: look again).
 */
const rewrite = (name, filter, from, to) => ({
  name,
  setup(build) {
    build.onLoad({ filter }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(from)) throw new Error(`${args.path} no longer contains ${from}`);
      return { contents: source.replaceAll(from, to), loader: 'js' };
    });
  },
});

// oclif sorts the command list with localeCompare, whose first call loads ICU's collation
// data: 12-22 ms of every command's start-up. Command ids are ASCII, so code-unit order
// is the same list.
const plainSort = rewrite(
  'oclif-plain-sort',
  /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/,
  '.sort((a, b) => a.id.localeCompare(b.id))',
  '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))',
);

// @desync/sha512-mb is bundled like the other workspace packages (an external one is an ES
// module: loading it would set up Node's ES module loader in every worker, 10-15 ms each),
// but it finds its addon next to its own file, so its import.meta.url must stay its own.
const sha512MbOwnUrl = rewrite(
  'sha512-mb-own-url',
  /[\\/]sha512-mb[\\/]dist[\\/]index\.js$/,
  'import.meta.url',
  "require('node:url').pathToFileURL(require.resolve('@desync/sha512-mb/package.json').replace(/package\\.json$/, 'dist/index.js')).href",
);

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
  plugins: [plainSort, sha512MbOwnUrl],
  banner: {
    js: [
      BUNDLE_URL,
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
// Worker threads are started from a file next to the code that spawns them. They are
// CommonJS too (dist/bundle/package.json says so): a worker started on an ES module first
// compiles Node's ES module loader, 10-15 ms of each worker's start-up.
for (const [name, pkg] of [
  ['chunk-worker', '@desync/chunker'],
  ['engine-worker', '@desync/engine'],
]) {
  await build({
    ...common,
    entryPoints: { [name]: distFile(pkg, `${name}.js`) },
    outdir,
    plugins: [sha512MbOwnUrl],
    banner: { js: BUNDLE_URL },
  });
}
// bin/run.js starts make's and extract's workers with this before it loads the CLI (their
// registry is on globalThis, shared with the copy inside desync.cjs).
await build({
  ...common,
  entryPoints: { 'worker-url': distFile('@desync/chunker', 'worker-url.js') },
  outdir,
});
await writeFile(join(outdir, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
