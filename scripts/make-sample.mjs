// Writes a deterministic sample file of mixed content (random, text, zeros, repeats).

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

const [path, mib = '64'] = process.argv.slice(2);
const out = createWriteStream(path);
let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
};
const words = ['casync', 'chunk', 'store', 'index', 'desync', 'blob', 'zstd', 'sha512', 'seed', 'cache'];
let remaining = Number(mib) * 1024 * 1024;
let previous = Buffer.alloc(0);
while (remaining > 0) {
  const size = Math.min(remaining, 4096 + (rand() % (1024 * 1024)));
  const kind = rand() % 4;
  let block;
  if (kind === 0) {
    block = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) block.writeUInt32LE(rand(), Math.min(i, size - 4));
  } else if (kind === 1) {
    let s = '';
    while (s.length < size) s += `${words[rand() % words.length]} `;
    block = Buffer.from(s.slice(0, size));
  } else if (kind === 2) {
    block = Buffer.alloc(size);
  } else {
    block =
      previous.length > 0 ? previous.subarray(0, Math.min(size, previous.length)) : Buffer.alloc(size, 7);
  }
  previous = block;
  remaining -= block.length;
  if (!out.write(block)) await once(out, 'drain');
}
out.end();
await once(out, 'finish');
