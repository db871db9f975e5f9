import { existsSync, readFileSync } from 'node:fs';
import { loadChunkHasher, loadCodec } from '@desync/core';

/** `desync --version`: the CLI's version, the runtime, the zstd codec and the SHA512/256 implementation in use. */
export async function versionText(): Promise<string> {
  // dist/version.js or the bundle in dist/bundle/: the package.json is one or two levels up.
  const near = new URL('../package.json', import.meta.url);
  const path = existsSync(near) ? near : new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(path, 'utf8')) as { version: string };
  const codec = await loadCodec();
  const hasher = await loadChunkHasher();
  return `desync/${pkg.version} ${process.platform}-${process.arch} node-${process.version} zstd/${codec.name} sha512-256/${hasher.name}`;
}
