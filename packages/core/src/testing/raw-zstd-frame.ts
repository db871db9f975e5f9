/** zstd's largest block (RFC 8878 section 3.1.1.2.4: Block_Maximum_Size is 128 KiB). */
const MAX_BLOCK = 128 * 1024;

/**
 * Encodes `data` as one zstd frame of raw (stored) blocks whose header leaves the content
 * size out, as casync's streaming writer does. Tests use it to check that readers decode
 * frames without a size hint; any zstd decoder reads it.
 */
export function rawZstdFrame(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / MAX_BLOCK));
  const out = new Uint8Array(6 + blocks * 3 + data.length);
  // RFC 8878 3.1.1: magic 0xFD2FB528 (little endian); Frame_Header_Descriptor 0: no content
  // size, no single segment (so a Window_Descriptor follows), no checksum, no dictionary.
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x00], 0);
  // RFC 8878 3.1.1.1.2: exponent 7, mantissa 0 gives a 2^17 = 128 KiB window, enough for
  // blocks of Block_Maximum_Size.
  out[5] = 7 << 3;
  let pos = 6;
  for (let b = 0; b < blocks; b++) {
    const part = data.subarray(b * MAX_BLOCK, Math.min(data.length, (b + 1) * MAX_BLOCK));
    const last = b === blocks - 1 ? 1 : 0;
    // RFC 8878 3.1.1.2: 3-byte little-endian header: Last_Block, Block_Type 0 (raw), Block_Size.
    const header = (part.length << 3) | last;
    out[pos] = header & 0xff;
    out[pos + 1] = (header >> 8) & 0xff;
    out[pos + 2] = (header >> 16) & 0xff;
    out.set(part, pos + 3);
    pos += 3 + part.length;
  }
  return out;
}
