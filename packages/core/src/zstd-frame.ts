const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Reads the content size a zstd frame header declares (RFC 8878 section 3.1.1.1), or
 * undefined when the frame leaves it out (casync's streaming writer does).
 * Used to refuse frames that claim an absurd size before allocating for them.
 */
export function zstdFrameContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 5) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) return undefined;
  const fhd = frame[4];
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictIdFlag = fhd & 3;
  let pos = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictIdFlag];
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0 || pos + fcsBytes > frame.length) return undefined;
  switch (fcsBytes) {
    case 1:
      return frame[pos];
    case 2:
      return view.getUint16(pos, true) + 256;
    case 4:
      return view.getUint32(pos, true);
    default: {
      const lo = view.getUint32(pos, true);
      pos += 4;
      const hi = view.getUint32(pos, true);
      return hi * 2 ** 32 + lo;
    }
  }
}

/** True when the bytes start with a zstd frame magic. */
export function isZstdFrame(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd;
}

/**
 * The length in bytes of the zstd frame at the start of `data` (RFC 8878 section 3.1.1),
 * walking its block headers; undefined when `data` does not hold one whole frame. A chunk
 * file must be exactly one frame: casync refuses trailing frames (EBADMSG).
 */
export function zstdFrameLength(data: Uint8Array): number | undefined {
  if (!isZstdFrame(data) || data.length < 6) return undefined;
  const fhd = data[4] as number;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const checksum = (fhd >> 2) & 1;
  const dictIdFlag = fhd & 3;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : ([0, 2, 4, 8][fcsFlag] as number);
  let pos = 5 + (singleSegment ? 0 : 1) + ([0, 1, 2, 4][dictIdFlag] as number) + fcsBytes;
  for (;;) {
    if (pos + 3 > data.length) return undefined;
    const header =
      (data[pos] as number) | ((data[pos + 1] as number) << 8) | ((data[pos + 2] as number) << 16);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) return undefined; // reserved block type
    pos += 3 + (type === 1 ? 1 : size); // an RLE block stores one byte
    if (last) break;
  }
  pos += checksum ? 4 : 0;
  return pos <= data.length ? pos : undefined;
}
