import { HEADER_SIZE, MAX_MESSAGE_SIZE } from './protocol-constants.js';
import { ProtocolError } from './protocol-error.js';
import {
  decodeMessage,
  MalformedMessage,
  messageTypeName,
  type ProtocolMessage,
} from './protocol-message.js';

/**
 * Splits a byte stream into casync protocol messages, pulled one at a time (a slow consumer
 * slows the reads). At most one message (16 MiB) plus one piece of input is held: a header
 * claiming more, or less than a header, fails at once, before its body arrives.
 *
 * The iteration ends when the stream ends at a message boundary. It throws ProtocolError naming
 * `peer` for an unknown type, a malformed message, or a stream that ends inside a message;
 * errors of the stream itself pass through unchanged.
 */
export async function* readMessages(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  peer: string,
): AsyncGenerator<ProtocolMessage, void, undefined> {
  const pieces: Buffer[] = [];
  let buffered = 0;
  /** Size of the message being read, once its header is in. */
  let size = 0;
  let type = 0n;

  const take = (n: number): Buffer => {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = pieces[0];
      const used = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) pieces.shift();
      else pieces[0] = head.subarray(used);
    }
    buffered -= n;
    return out;
  };

  for await (const piece of source) {
    if (piece.length === 0) continue;
    pieces.push(Buffer.from(piece.buffer, piece.byteOffset, piece.length));
    buffered += piece.length;
    for (;;) {
      if (size === 0) {
        if (buffered < HEADER_SIZE) break;
        const header = take(HEADER_SIZE);
        const claimed = header.readBigUInt64LE(0);
        type = header.readBigUInt64LE(8);
        if (claimed < BigInt(HEADER_SIZE) || claimed > BigInt(MAX_MESSAGE_SIZE)) {
          throw new ProtocolError(
            peer,
            `protocol error: a message claims ${claimed} bytes (the limits are ${HEADER_SIZE} to ${MAX_MESSAGE_SIZE})`,
          );
        }
        // An unknown type fails before its body is waited for.
        if (messageTypeName(type) === undefined) {
          throw new ProtocolError(peer, `protocol error: unknown message type 0x${type.toString(16)}`);
        }
        size = Number(claimed);
      }
      const bodySize = size - HEADER_SIZE;
      if (buffered < bodySize) break;
      const body = take(bodySize);
      size = 0;
      let message: ProtocolMessage;
      try {
        message = decodeMessage(type, body);
      } catch (err) {
        if (err instanceof MalformedMessage) throw new ProtocolError(peer, `protocol error: ${err.reason}`);
        throw err;
      }
      yield message;
    }
  }
  if (size !== 0 || buffered !== 0) {
    const missing = size === 0 ? HEADER_SIZE - buffered : size - HEADER_SIZE - buffered;
    throw new ProtocolError(peer, `connection closed in the middle of a message (${missing} bytes short)`);
  }
}
