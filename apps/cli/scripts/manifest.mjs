// Writes oclif.manifest.json: without it oclif loads every command class and evaluates every
// flag on each start (~10 ms). Flag defaults that come from the config file are recorded as
// their built-in values (help shows those); commands still read the file when they run.
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// No config file of the machine that builds may leak into the manifest.
process.env.DESYNC_CONFIG = fileURLToPath(new URL('../dist/no-config.json', import.meta.url));
// oclif reads an existing manifest even with ignoreManifest: the old one must go first, or
// changed commands and flags never reach it.
await rm(new URL('../oclif.manifest.json', import.meta.url), { force: true });
const { Config } = await import('@oclif/core');
const config = await Config.load({ root, ignoreManifest: true });
const manifest = config.plugins.get(config.pjson.name)?.manifest;
if (!manifest || Object.keys(manifest.commands).length === 0) throw new Error('oclif found no commands');
await writeFile(new URL('../oclif.manifest.json', import.meta.url), `${JSON.stringify(manifest)}\n`);
