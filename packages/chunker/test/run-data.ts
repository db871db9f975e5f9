import { Prng } from './testkit.js';

/**
 * Seeded random bytes with long runs written over them at odd offsets: zeros, a 7-byte
 * pattern and a 1000-byte random pattern, each `runLength` to 2·`runLength` long. In a
 * run whose hash never cuts, casync cuts at max counted from the last cut before the run,
 * so a worker that starts a section inside the run is out of step with the serial chunker
 * until the run ends: runs longer than the section overlap make sections fail to join.
 */
export function bytesWithRuns(size: number, runLength: number, seed: number): Uint8Array {
  const prng = new Prng(seed);
  const data = new Uint8Array(size);
  prng.fill(data);
  const pattern1000 = new Uint8Array(1000);
  prng.fill(pattern1000);
  const runs = Math.max(1, Math.floor(size / (4 * runLength)));
  for (let r = 0; r < runs; r++) {
    const length = Math.min(size, runLength + prng.below(runLength + 1));
    const at = prng.below(size - length + 1);
    const kind = r % 3;
    for (let i = 0; i < length; i++) {
      data[at + i] = kind === 0 ? 0 : kind === 1 ? (i % 7) + 1 : pattern1000[i % 1000];
    }
  }
  return data;
}
