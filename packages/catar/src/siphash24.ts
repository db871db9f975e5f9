// SipHash-2-4 (Aumasson & Bernstein), as casync src/siphash24.c computes it: 64-bit result,
// 16-byte key read as two little-endian words, 2 compression and 4 finalization rounds.

const MASK = 0xffffffffffffffffn;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK;
}

/**
 * SipHash-2-4 of `data` with a 16-byte `key`. casync hashes every directory entry's name
 * with it for the goodbye table (caencoder.c, key `CA_FORMAT_GOODBYE_HASH_KEY`).
 * @returns the 64-bit hash, as casync stores it (little-endian) in a goodbye item.
 * @throws RangeError when the key is not 16 bytes.
 */
export function siphash24(data: Uint8Array, key: Uint8Array): bigint {
  if (key.length !== 16) throw new RangeError(`siphash24 needs a 16-byte key, got ${key.length}`);
  const kv = new DataView(key.buffer, key.byteOffset, 16);
  const k0 = kv.getBigUint64(0, true);
  const k1 = kv.getBigUint64(8, true);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;

  const round = (): void => {
    v0 = (v0 + v1) & MASK;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & MASK;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & MASK;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const compress = (m: bigint): void => {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  };

  const len = data.length;
  const whole = len - (len % 8);
  const dv = new DataView(data.buffer, data.byteOffset, len);
  for (let i = 0; i < whole; i += 8) compress(dv.getBigUint64(i, true));
  // The last word holds the remaining bytes and, in its top byte, the length mod 256.
  let last = BigInt(len & 0xff) << 56n;
  for (let i = whole; i < len; i++) last |= BigInt(data[i]) << BigInt(8 * (i - whole));
  compress(last);

  v2 ^= 0xffn;
  round();
  round();
  round();
  round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK;
}
