import { readFileSync } from 'node:fs';
import { loadCodec } from '@desync/core';

/** `desync --version`: the CLI's version, the runtime, and the zstd codec in use. */
export async function versionText(): Promise<string> {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const codec = await loadCodec();
  return `desync/${pkg.version} ${process.platform}-${process.arch} node-${process.version} zstd/${codec.name}`;
}
