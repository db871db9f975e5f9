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
