import { writeFile } from 'node:fs/promises';
import { checkSize } from './check-size.js';
import { Prng } from './prng.js';

// Tokens of the kind found under /usr: English prose, C, shell and config. A small vocabulary
// makes text compress about as well as real docs and sources (roughly 3-4x with zstd).
const WORDS = `
  the of and to a in is that for it as with be on not this by are or from at an which can if file
  files option default value see used when will all must may should returns error NULL int char
  void static const struct return unsigned size_t uint64_t if else while for break #include
  #define #endif { } (void) 0; -1; *p buf len fd ret goto fail; echo then fi done export PATH $1
  "$@" local set -e case esac /usr/bin /usr/lib /etc /var/lib Copyright (C) GNU General Public
  License version 2 or later WITHOUT ANY WARRANTY; Free Software Foundation Inc. program library
  system user data name type string list table index chunk store module package install config
  self def import True None
`
  .trim()
  .split(/\s+/);

// Repeats of ' ' weight the common case.
const SEPARATORS = ['\n', '\n  ', '\n\t', ', ', '. ', ' = ', '; ', ...Array<string>(9).fill(' ')];

// Every word followed by every separator, packed into one array: text is then a sequence of
// token copies, which runs about ten times faster than picking word and separator apart.
const TOKEN_TEXT = WORDS.flatMap((word) => SEPARATORS.map((sep) => word + sep));
const TOKEN_COUNT = TOKEN_TEXT.length;
const TOKENS = Buffer.from(TOKEN_TEXT.join(''), 'latin1');
const TOKEN_START = new Int32Array(TOKEN_COUNT + 1);
for (let t = 0; t < TOKEN_COUNT; t++) TOKEN_START[t + 1] = TOKEN_START[t] + TOKEN_TEXT[t].length;

const NAME_DIRS = ['bin', 'lib', 'lib/x86_64-linux-gnu', 'include', 'libexec', 'share/doc', 'share/man/man1'];
const NAME_WORDS = 'core util gtk python3 perl gcc locale systemd icons zoneinfo'.split(' ');
const NAME_EXTS = ['so', 'h', 'txt', 'gz', 'py', 'conf', '1', 'mo', 'png', 'pm'];

// Percent of segments of each kind. With the size ranges below, measured over 128 MiB: about
// 60% of bytes are text, 5-13% zeros and the rest random; about a quarter of all bytes repeat
// earlier segments, and zstd -3 compresses the whole about 2.1x.
const RANDOM_PERCENT = 20;
const TEXT_PERCENT = 45;
const ZERO_PERCENT = 12;

const MIN_SEGMENT = 256;
const MAX_SEGMENT = 2 << 20;
const MAX_ZERO_RUN = 1 << 20;
// Only segments a chunker can match (casync's minimum chunk is 16 KiB) are worth repeating;
// 32 kept segments of at most 1 MiB bound the generator's memory to about 34 MiB.
const MIN_KEPT = 16 << 10;
const MAX_KEPT = 1 << 20;
const RESERVOIR_SIZE = 32;

const TAR_BLOCK = 512;
const ZEROS = new Uint8Array(MAX_ZERO_RUN);

function textBytes(prng: Prng, size: number): Uint8Array {
  const out = Buffer.allocUnsafeSlow(size);
  // Random words are drawn in batches through the fast fill path; each 32-bit draw picks two
  // tokens, one per half (the modulo bias of 65536 % TOKEN_COUNT does not matter here).
  const draws = new Int32Array(1024);
  const drawBytes = new Uint8Array(draws.buffer);
  let next = draws.length * 2;
  let offset = 0;
  while (offset < size) {
    if (next === draws.length * 2) {
      prng.fill(drawBytes);
      next = 0;
    }
    const draw = draws[next >> 1];
    const token = ((next & 1) === 0 ? draw & 0xffff : draw >>> 16) % TOKEN_COUNT;
    next++;
    const start = TOKEN_START[token];
    const end = Math.min(TOKEN_START[token + 1], start + size - offset);
    for (let i = start; i < end; i++) out[offset++] = TOKENS[i];
  }
  return out;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

// POSIX ustar header layout (pax spec, "ustar Interchange Format"): name@0, mode@100, size@124,
// mtime@136, chksum@148, typeflag@156, magic@257. Real-looking headers give the chunker the
// small, similar-but-different records a tar of /usr is full of.
function tarHeader(prng: Prng, size: number): Uint8Array {
  const header = Buffer.alloc(TAR_BLOCK);
  const dir = NAME_DIRS[prng.below(NAME_DIRS.length)];
  const word = NAME_WORDS[prng.below(NAME_WORDS.length)];
  const ext = NAME_EXTS[prng.below(NAME_EXTS.length)];
  header.write(`usr/${dir}/${word}/${word}-${prng.below(100_000)}.${ext}`, 0, 'latin1');
  header.write(octal(0o644, 8), 100, 'latin1');
  header.write(octal(0, 8), 108, 'latin1');
  header.write(octal(0, 8), 116, 'latin1');
  header.write(octal(size, 12), 124, 'latin1');
  header.write(octal(1_600_000_000 + prng.below(100_000_000), 12), 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write('0', 156, 'latin1');
  header.write('ustar\u000000root', 257, 'latin1');
  header.write('root', 297, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

// Never ends; generateMixed cuts it, so a smaller file is always a prefix of a larger one.
function* mixedStream(seed: number): Generator<Uint8Array> {
  const prng = new Prng(seed);
  const reservoir: Uint8Array[] = [];
  const keep = (segment: Uint8Array): void => {
    if (segment.byteLength < MIN_KEPT || segment.byteLength > MAX_KEPT || prng.below(4) !== 0) return;
    if (reservoir.length < RESERVOIR_SIZE) reservoir.push(segment);
    else reservoir[prng.below(RESERVOIR_SIZE)] = segment;
  };
  for (;;) {
    const roll = prng.below(100);
    let content: Uint8Array;
    if (
      roll < RANDOM_PERCENT ||
      (roll >= RANDOM_PERCENT + TEXT_PERCENT + ZERO_PERCENT && !reservoir.length)
    ) {
      content = Buffer.allocUnsafeSlow(prng.logUniform(MIN_SEGMENT, MAX_SEGMENT));
      prng.fill(content);
      keep(content);
    } else if (roll < RANDOM_PERCENT + TEXT_PERCENT) {
      content = textBytes(prng, prng.logUniform(MIN_SEGMENT, MAX_SEGMENT));
      keep(content);
    } else if (roll < RANDOM_PERCENT + TEXT_PERCENT + ZERO_PERCENT) {
      content = ZEROS.subarray(0, prng.logUniform(TAR_BLOCK, MAX_ZERO_RUN));
    } else {
      content = reservoir[prng.below(reservoir.length)];
    }
    yield tarHeader(prng, content.byteLength);
    yield content;
    const padding = (TAR_BLOCK - (content.byteLength % TAR_BLOCK)) % TAR_BLOCK;
    if (padding > 0) yield ZEROS.subarray(0, padding);
  }
}

/**
 * Yields `size` bytes that look like a tar of /usr: 512-byte ustar headers, each followed by a
 * random (incompressible), text-like (compressible) or all-zero segment, or by a repeat of an
 * earlier segment (so a chunk store dedups), padded to 512 bytes. It is tar-like, not a valid tar.
 *
 * Deterministic per seed, and a smaller size yields a prefix of a larger one. Memory stays below
 * about 40 MiB for any size. Pieces may be shared between yields: do not mutate them.
 */
export function* generateMixed(size: number, seed: number): Generator<Uint8Array> {
  checkSize(size);
  let left = size;
  if (left === 0) return;
  for (const piece of mixedStream(seed)) {
    if (piece.byteLength >= left) {
      yield piece.subarray(0, left);
      return;
    }
    left -= piece.byteLength;
    yield piece;
  }
}

/** Writes generateMixed(size, seed) to `path` (created or truncated), streaming: fine for 2 GB+. */
export async function writeMixedFile(path: string, size: number, seed: number): Promise<void> {
  await writeFile(path, generateMixed(size, seed));
}
