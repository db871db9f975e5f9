import { type ChunkId, chunkIdFromBytes, chunkIdToBytes, DesyncError } from '@desync/core';
import {
  CHUNK_COMPRESSED,
  CHUNK_ID_SIZE,
  FEATURE_FLAGS_MAX,
  HEADER_SIZE,
  MAX_MESSAGE_SIZE,
  MessageType,
  REQUEST_HIGH_PRIORITY,
} from './protocol-constants.js';

/** One message of casync's remote protocol, decoded. */
export type ProtocolMessage =
  | { readonly type: 'hello'; readonly features: bigint }
  | { readonly type: 'index' | 'archive'; readonly data: Uint8Array }
  | { readonly type: 'index-eof' | 'archive-eof' | 'goodbye' }
  | { readonly type: 'request'; readonly highPriority: boolean; readonly ids: readonly ChunkId[] }
  | { readonly type: 'chunk'; readonly id: ChunkId; readonly compressed: boolean; readonly data: Uint8Array }
  | { readonly type: 'missing'; readonly id: ChunkId }
  | { readonly type: 'abort'; readonly error: number; readonly reason: string };

const TYPE_NAMES = new Map<bigint, ProtocolMessage['type']>([
  [MessageType.HELLO, 'hello'],
  [MessageType.INDEX, 'index'],
  [MessageType.INDEX_EOF, 'index-eof'],
  [MessageType.ARCHIVE, 'archive'],
  [MessageType.ARCHIVE_EOF, 'archive-eof'],
  [MessageType.REQUEST, 'request'],
  [MessageType.CHUNK, 'chunk'],
  [MessageType.MISSING, 'missing'],
  [MessageType.GOODBYE, 'goodbye'],
  [MessageType.ABORT, 'abort'],
]);

const TYPE_WORDS: Record<ProtocolMessage['type'], bigint> = {
  hello: MessageType.HELLO,
  index: MessageType.INDEX,
  'index-eof': MessageType.INDEX_EOF,
  archive: MessageType.ARCHIVE,
  'archive-eof': MessageType.ARCHIVE_EOF,
  request: MessageType.REQUEST,
  chunk: MessageType.CHUNK,
  missing: MessageType.MISSING,
  goodbye: MessageType.GOODBYE,
  abort: MessageType.ABORT,
};

/** The message type a type word names, or undefined for a word casync does not define. */
export function messageTypeName(word: bigint): ProtocolMessage['type'] | undefined {
  return TYPE_NAMES.get(word);
}

/**
 * A message that cannot be encoded or decoded; `reason` says why. readMessages turns it into
 * a ProtocolError naming the peer.
 */
export class MalformedMessage extends DesyncError {
  readonly code = 'PROTOCOL_FORMAT';
  constructor(readonly reason: string) {
    super(`malformed casync protocol message: ${reason}`);
  }
}

function frame(type: bigint, bodySize: number): { bytes: Buffer; body: Buffer } {
  const size = HEADER_SIZE + bodySize;
  if (size > MAX_MESSAGE_SIZE) {
    throw new MalformedMessage(
      `a ${size}-byte message exceeds the protocol limit of ${MAX_MESSAGE_SIZE} bytes`,
    );
  }
  const bytes = Buffer.allocUnsafe(size);
  bytes.writeBigUInt64LE(BigInt(size), 0);
  bytes.writeBigUInt64LE(type, 8);
  return { bytes, body: bytes.subarray(HEADER_SIZE) };
}

/**
 * Encodes one message, header included. Throws MalformedMessage for a message casync would
 * reject (a REQUEST without ids, an ABORT reason with control characters, over 16 MiB).
 */
export function encodeMessage(message: ProtocolMessage): Buffer {
  const type = TYPE_WORDS[message.type];
  switch (message.type) {
    case 'hello': {
      if (message.features === 0n || (message.features & ~FEATURE_FLAGS_MAX) !== 0n) {
        throw new MalformedMessage(`invalid HELLO feature flags 0x${message.features.toString(16)}`);
      }
      const { bytes, body } = frame(type, 8);
      body.writeBigUInt64LE(message.features, 0);
      return bytes;
    }
    case 'index':
    case 'archive': {
      if (message.data.length === 0) throw new MalformedMessage(`an empty ${message.type} message`);
      const { bytes, body } = frame(type, message.data.length);
      body.set(message.data, 0);
      return bytes;
    }
    case 'index-eof':
    case 'archive-eof':
    case 'goodbye':
      return frame(type, 0).bytes;
    case 'request': {
      if (message.ids.length === 0) throw new MalformedMessage('a REQUEST without chunk ids');
      const { bytes, body } = frame(type, 8 + CHUNK_ID_SIZE * message.ids.length);
      body.writeBigUInt64LE(message.highPriority ? REQUEST_HIGH_PRIORITY : 0n, 0);
      message.ids.forEach((id, i) => {
        chunkIdToBytes(id).copy(body, 8 + i * CHUNK_ID_SIZE);
      });
      return bytes;
    }
    case 'chunk': {
      if (message.data.length === 0)
        throw new MalformedMessage(`a CHUNK message for ${message.id} without data`);
      const { bytes, body } = frame(type, 8 + CHUNK_ID_SIZE + message.data.length);
      body.writeBigUInt64LE(message.compressed ? CHUNK_COMPRESSED : 0n, 0);
      chunkIdToBytes(message.id).copy(body, 8);
      body.set(message.data, 8 + CHUNK_ID_SIZE);
      return bytes;
    }
    case 'missing': {
      const { bytes, body } = frame(type, CHUNK_ID_SIZE);
      chunkIdToBytes(message.id).copy(body, 0);
      return bytes;
    }
    case 'abort': {
      const reason = Buffer.from(message.reason, 'utf8');
      if (reason.some((byte) => byte < 0x20)) {
        throw new MalformedMessage('an ABORT reason with control characters');
      }
      if (!Number.isInteger(message.error) || message.error < 0 || message.error >= 0x7fffffff) {
        throw new MalformedMessage(`invalid ABORT error number ${message.error}`);
      }
      const { bytes, body } = frame(type, 8 + reason.length + 1);
      body.writeBigUInt64LE(BigInt(message.error), 0);
      reason.copy(body, 8);
      body[8 + reason.length] = 0;
      return bytes;
    }
  }
}

function exactSize(name: string, body: Uint8Array, size: number): void {
  if (body.length !== size) {
    throw new MalformedMessage(
      `a ${name} message has ${HEADER_SIZE + body.length} bytes, not ${HEADER_SIZE + size}`,
    );
  }
}

/**
 * Decodes the body of one message whose header gave `typeWord`. Checks everything casync's
 * caremote.c validate_* functions check, and throws MalformedMessage otherwise. The returned
 * data fields are views into `body`.
 */
export function decodeMessage(typeWord: bigint, body: Buffer): ProtocolMessage {
  const type = messageTypeName(typeWord);
  if (type === undefined) throw new MalformedMessage(`unknown message type 0x${typeWord.toString(16)}`);
  switch (type) {
    case 'hello': {
      exactSize('HELLO', body, 8);
      const features = body.readBigUInt64LE(0);
      // caremote.c: 0 (nothing offered, nothing wanted) and undefined bits are refused.
      if (features === 0n) throw new MalformedMessage('HELLO offers and asks for nothing');
      if ((features & ~FEATURE_FLAGS_MAX) !== 0n) {
        throw new MalformedMessage(`HELLO has unknown feature flags 0x${features.toString(16)}`);
      }
      return { type, features };
    }
    case 'index':
    case 'archive':
      if (body.length < 1) throw new MalformedMessage(`an empty ${type.toUpperCase()} message`);
      return { type, data: body };
    case 'index-eof':
    case 'archive-eof':
    case 'goodbye':
      exactSize(type.toUpperCase(), body, 0);
      return { type };
    case 'request': {
      if (body.length < 8 + CHUNK_ID_SIZE || (body.length - 8) % CHUNK_ID_SIZE !== 0) {
        throw new MalformedMessage(
          `a REQUEST message of ${HEADER_SIZE + body.length} bytes does not hold a whole number of chunk ids`,
        );
      }
      const flags = body.readBigUInt64LE(0);
      if ((flags & ~REQUEST_HIGH_PRIORITY) !== 0n) {
        throw new MalformedMessage(`REQUEST has unknown flags 0x${flags.toString(16)}`);
      }
      const ids: ChunkId[] = [];
      for (let at = 8; at < body.length; at += CHUNK_ID_SIZE) {
        ids.push(chunkIdFromBytes(body.subarray(at, at + CHUNK_ID_SIZE)));
      }
      return { type, highPriority: flags === REQUEST_HIGH_PRIORITY, ids };
    }
    case 'chunk': {
      if (body.length < 8 + CHUNK_ID_SIZE + 1) {
        throw new MalformedMessage(`a CHUNK message of ${HEADER_SIZE + body.length} bytes is too short`);
      }
      const flags = body.readBigUInt64LE(0);
      if ((flags & ~CHUNK_COMPRESSED) !== 0n) {
        throw new MalformedMessage(`CHUNK has unknown flags 0x${flags.toString(16)}`);
      }
      return {
        type,
        compressed: flags === CHUNK_COMPRESSED,
        id: chunkIdFromBytes(body.subarray(8, 8 + CHUNK_ID_SIZE)),
        data: body.subarray(8 + CHUNK_ID_SIZE),
      };
    }
    case 'missing':
      exactSize('MISSING', body, CHUNK_ID_SIZE);
      return { type, id: chunkIdFromBytes(body) };
    case 'abort': {
      if (body.length < 9) throw new MalformedMessage('an ABORT message without a reason');
      const error = body.readBigUInt64LE(0);
      if (error >= 0x7fffffffn) throw new MalformedMessage(`ABORT has an invalid error number ${error}`);
      const text = body.subarray(8);
      if (text[text.length - 1] !== 0) throw new MalformedMessage('an ABORT reason not ended by NUL');
      const reason = text.subarray(0, text.length - 1);
      if (reason.some((byte) => byte < 0x20))
        throw new MalformedMessage('an ABORT reason with control characters');
      return { type, error: Number(error), reason: reason.toString('utf8') };
    }
  }
}
