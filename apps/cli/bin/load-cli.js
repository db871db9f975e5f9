'use strict';
// CommonJS (bin/package.json): a command started on an ES module first sets up Node's ES
// module loader, 15-20 ms of every start-up on Node 20.
const { createHash } = require('node:crypto');
const {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} = require('node:fs');
const Module = require('node:module');
const { createRequire } = Module;
const { homedir } = require('node:os');
const { dirname, isAbsolute, join } = require('node:path');
const { setFlagsFromString } = require('node:v8');
const vm = require('node:vm');

// The whole CLI in one CommonJS bundle (scripts/bundle.mjs); oclif finds the commands in it.
const bundle = join(__dirname, '..', 'dist', 'bundle', 'desync.cjs');

/**
 * Loads the CLI bundle. Compiling it is a third of every command's start-up, so the compiled
 * code is cached on disk: by Node itself where it can (>= 22.1, `module.enableCompileCache`),
 * on Node 20 by hand, as V8 code cache, one per `command` (a cache holds the functions its
 * first run compiled: extract's are not make's). `NODE_DISABLE_COMPILE_CACHE=1` turns both off.
 */
function loadCli(command) {
  if (Module.enableCompileCache) {
    Module.enableCompileCache();
    return require(bundle);
  }
  const cacheFile = process.env.NODE_DISABLE_COMPILE_CACHE
    ? undefined
    : cacheFileFor(bundle, isCommand(command) ? command : 'other');
  return cacheFile ? loadWithCodeCache(cacheFile) : require(bundle);
}

// Set when this run writes the bundle's code cache at exit (Node 20: none yet, or rejected).
let cacheSavedAtExit = false;

/**
 * Caps V8's tiers (no TurboFan) for the rest of a make or extract (see bin/run.js). Their
 * JavaScript moves chunks between native code (the WebAssembly boundary scan, zstd,
 * SHA512/256, file I/O): TurboFan's background compiles of it, 0.1-0.3 s of CPU on the cores
 * the workers need, cost more than the optimized code saves. A changed flag makes V8 reject
 * every code cache compiled under the old ones, Node's own built-in modules included (a worker
 * then compiles Node's internals from source: 30 ms of CPU), and a cache written afterwards
 * carries the new flags. So it is set once the workers have booted and the bundle is
 * compiled, and not in a run that writes the bundle's cache.
 */
function capTiers() {
  if (cacheSavedAtExit) return;
  // Node >= 22's own compile cache: what it holds so far is written now, under today's flags.
  if (Module.enableCompileCache) {
    if (!Module.flushCompileCache) return;
    Module.flushCompileCache();
  }
  setFlagsFromString('--max-opt=2');
}

// A command of the CLI (one file each in dist/commands): a mistyped word shares the cache of
// everything else instead of leaving a file of its own (700 KB) behind.
function isCommand(word) {
  return (
    /^[a-z][a-z-]{0,30}$/.test(word ?? '') &&
    existsSync(join(__dirname, '..', 'dist', 'commands', `${word}.js`))
  );
}

// One file per Node version and build of the bundle, in the user's own cache directory
// (code cache is code: it must not come from a directory others can write); none without one.
function cacheFileFor(source, command) {
  const xdg = process.env.XDG_CACHE_HOME;
  let home = '';
  try {
    home = homedir();
  } catch {}
  const base = xdg && isAbsolute(xdg) ? xdg : isAbsolute(home) ? join(home, '.cache') : undefined;
  if (base === undefined) return undefined;
  const { size, mtimeMs } = statSync(source);
  const key = createHash('sha256')
    .update(JSON.stringify([process.version, process.arch, source, size, mtimeMs, command]))
    .digest('hex')
    .slice(0, 32);
  return join(base, 'desync', 'code-cache', `${cachePrefix(command)}${key}.bin`);
}

// The files of one command on one Node version: a new one replaces the others (an upgrade's
// or rebuild's caches would otherwise pile up, about 700 KB each).
function cachePrefix(command) {
  return `${command}-${process.version}-`;
}

function loadWithCodeCache(cacheFile) {
  const cachedData = readCodeCache(cacheFile);
  const script = new vm.Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
  // import() fails in code run from a cache on Node 20: the bundle imports through this one
  // (scripts/bundle.mjs). Bare names resolve from here as from the bundle: one package.
  globalThis[Symbol.for('desync.import')] = (specifier) => import(specifier);
  // Registered as require() would, so oclif's require of the same file gets this instance.
  const mod = new Module(bundle);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(dirname(bundle));
  require.cache[bundle] = mod;
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
  mod.loaded = true;
  // Written once the command has run, so the functions it compiled on the way are in it too.
  if (cachedData === undefined || script.cachedDataRejected) {
    cacheSavedAtExit = true;
    process.once('exit', () => saveCodeCache(script, cacheFile));
  }
  return mod.exports;
}

// V8 checks a code cache's version and length, not its bytes: a damaged one would crash every
// start. The file therefore begins with the SHA-256 of the rest, checked before V8 sees it.
const digest = (data) => createHash('sha256').update(data).digest();

function readCodeCache(cacheFile) {
  let file;
  try {
    file = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const data = file.subarray(32);
  return file.length > 32 && digest(data).equals(file.subarray(0, 32)) ? data : undefined;
}

function saveCodeCache(script, cacheFile) {
  const temp = `${cacheFile}.${process.pid}.tmp`;
  try {
    makeDirs(dirname(cacheFile), 0o700);
    const data = script.createCachedData();
    writeFileSync(temp, Buffer.concat([digest(data), data]), { mode: 0o600 });
    renameSync(temp, cacheFile);
    removeOlderCaches(cacheFile);
  } catch {
    // A cache that cannot be written only costs the next start its compile time.
    try {
      unlinkSync(temp);
    } catch {}
  }
}

// mkdir -p. Node's `recursive: true` never returns where mkdir answers ENOENT under an existing
// directory (/proc, /sys: an XDG_CACHE_HOME there would hang every command at exit).
function makeDirs(dir, mode) {
  try {
    mkdirSync(dir, { mode });
  } catch (err) {
    if (err.code === 'EEXIST') return;
    const parent = dirname(dir);
    if (err.code !== 'ENOENT' || parent === dir) throw err;
    makeDirs(parent, mode);
    mkdirSync(dir, { mode });
  }
}

function removeOlderCaches(cacheFile) {
  const dir = dirname(cacheFile);
  const name = cacheFile.slice(dir.length + 1);
  const prefix = name.slice(0, name.lastIndexOf('-') + 1); // the key after it is hex
  for (const other of readdirSync(dir)) {
    if (other !== name && other.startsWith(prefix) && other.endsWith('.bin')) {
      try {
        unlinkSync(join(dir, other));
      } catch {}
    }
  }
}

module.exports = { capTiers, loadCli };
