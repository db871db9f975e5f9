import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { type ChunkId, digestChunk } from '@desync/core';
import { describe, expect, it } from 'vitest';
import { readMessages } from '../src/message-reader.js';
import { MAX_MESSAGE_SIZE, MessageType } from '../src/protocol-constants.js';
import { ProtocolError } from '../src/protocol-error.js';
import {
  decodeMessage,
  encodeMessage,
  MalformedMessage,
  type ProtocolMessage,
} from '../src/protocol-message.js';

const id = (n: number): ChunkId => digestChunk(Buffer.from(`chunk ${n}`));

/** A raw message: header with `size` (default: the real size) and `type`, then `body`. */
function raw(type: bigint, body: Uint8Array = new Uint8Array(0), size?: bigint): Buffer {
  const header = Buffer.alloc(16);
  header.writeBigUInt64LE(size ?? BigInt(16 + body.length), 0);
  header.writeBigUInt64LE(type, 8);
  return Buffer.concat([header, body]);
}

function le64(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return b;
}

async function readAll(bytes: Uint8Array, pieceSize = bytes.length || 1): Promise<ProtocolMessage[]> {
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += pieceSize) yield bytes.subarray(at, at + pieceSize);
  }
  const out: ProtocolMessage[] = [];
  for await (const m of readMessages(pieces(), 'peer.example')) out.push(m);
  return out;
}

async function readError(bytes: Uint8Array): Promise<ProtocolError> {
  const err = await readAll(bytes).then(
    () => expect.fail('expected a ProtocolError'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as ProtocolError).code).toBe('STORE_ERROR');
  expect((err as ProtocolError).message).toContain('peer.example');
  return err as ProtocolError;
}

const samples: ProtocolMessage[] = [
  { type: 'hello', features: 0x40n },
  { type: 'hello', features: 0x1fffn },
  { type: 'index', data: Buffer.from('index bytes') },
  { type: 'index-eof' },
  { type: 'archive', data: Buffer.from([1, 2, 3]) },
  { type: 'archive-eof' },
  { type: 'request', highPriority: false, ids: [id(1)] },
  { type: 'request', highPriority: true, ids: [id(1), id(2), id(3)] },
  { type: 'chunk', id: id(4), compressed: true, data: Buffer.from('frame') },
  { type: 'chunk', id: id(5), compressed: false, data: Buffer.from('p') },
  { type: 'missing', id: id(6) },
  { type: 'goodbye' },
  { type: 'abort', error: 74, reason: 'Bad message' },
  { type: 'abort', error: 0, reason: '' },
];

describe('protocol codec', () => {
  it.each(samples.map((m) => [m.type, m] as const))('round-trips a %s message', async (_type, message) => {
    const bytes = encodeMessage(message);
    expect(bytes.readBigUInt64LE(0)).toBe(BigInt(bytes.length));
    expect(await readAll(bytes)).toEqual([message]);
  });

  it('encodes the header casync expects: le64 size, le64 type', () => {
    const bytes = encodeMessage({ type: 'hello', features: 0x1n });
    expect(bytes.toString('hex')).toBe(
      `1800000000000000${le64(MessageType.HELLO).toString('hex')}0100000000000000`,
    );
    const request = encodeMessage({ type: 'request', highPriority: false, ids: [id(1), id(2)] });
    expect(request.length).toBe(16 + 8 + 64);
  });

  it('reads many messages split at every byte', async () => {
    const all = Buffer.concat(samples.map((m) => encodeMessage(m)));
    expect(await readAll(all, 1)).toEqual(samples);
    expect(await readAll(all, 7)).toEqual(samples);
  });

  it('reads a chunk message of the largest allowed size', async () => {
    const data = randomBytes(MAX_MESSAGE_SIZE - 16 - 40);
    const [message] = await readAll(
      encodeMessage({ type: 'chunk', id: id(1), compressed: true, data }),
      65536,
    );
    expect(message.type === 'chunk' && Buffer.from(message.data).equals(data)).toBe(true);
  });

  it('refuses to encode what casync would reject', () => {
    const bad: ProtocolMessage[] = [
      { type: 'hello', features: 0n },
      { type: 'hello', features: 0x2000n },
      { type: 'request', highPriority: false, ids: [] },
      { type: 'chunk', id: id(1), compressed: true, data: new Uint8Array(0) },
      { type: 'chunk', id: id(1), compressed: true, data: new Uint8Array(MAX_MESSAGE_SIZE) },
      { type: 'abort', error: 1, reason: 'line\nbreak' },
      { type: 'abort', error: -1, reason: 'x' },
      { type: 'index', data: new Uint8Array(0) },
    ];
    for (const m of bad) expect(() => encodeMessage(m)).toThrow(MalformedMessage);
  });

  it('decodeMessage rejects an unknown type word', () => {
    expect(() => decodeMessage(0x1234n, Buffer.alloc(0))).toThrow(/unknown message type 0x1234/);
  });
});

describe('readMessages rejects malformed input', () => {
  const ids = Buffer.concat([Buffer.from(id(1), 'hex'), Buffer.from(id(2), 'hex')]);
  const cases: [string, Buffer, RegExp][] = [
    ['a size below the header size', raw(MessageType.GOODBYE, new Uint8Array(0), 15n), /claims 15 bytes/],
    ['a size of zero', raw(MessageType.GOODBYE, new Uint8Array(0), 0n), /claims 0 bytes/],
    [
      'a size above 16 MiB',
      raw(MessageType.CHUNK, new Uint8Array(0), BigInt(MAX_MESSAGE_SIZE + 1)),
      /claims 16777217/,
    ],
    [
      'a size of 2^64-1',
      raw(MessageType.CHUNK, new Uint8Array(0), 0xffffffffffffffffn),
      /claims 18446744073709551615/,
    ],
    ['an unknown type', raw(0xdeadbeefn), /unknown message type 0xdeadbeef/],
    ['a HELLO of the wrong size', raw(MessageType.HELLO, Buffer.alloc(16, 1)), /HELLO message has 32 bytes/],
    ['a HELLO offering nothing', raw(MessageType.HELLO, le64(0n)), /offers and asks for nothing/],
    [
      'a HELLO with undefined feature bits',
      raw(MessageType.HELLO, le64(0x2000n)),
      /unknown feature flags 0x2000/,
    ],
    ['a HELLO of all ones', raw(MessageType.HELLO, le64(0xffffffffffffffffn)), /unknown feature flags/],
    ['an empty INDEX', raw(MessageType.INDEX), /empty INDEX/],
    [
      'an INDEX_EOF with a body',
      raw(MessageType.INDEX_EOF, Buffer.alloc(1)),
      /INDEX-EOF message has 17 bytes/,
    ],
    ['a GOODBYE with a body', raw(MessageType.GOODBYE, Buffer.alloc(8)), /GOODBYE message has 24 bytes/],
    ['a REQUEST without ids', raw(MessageType.REQUEST, le64(0n)), /whole number of chunk ids/],
    [
      'a REQUEST with a partial id',
      raw(MessageType.REQUEST, Buffer.concat([le64(0n), ids.subarray(0, 40)])),
      /whole number/,
    ],
    [
      'a REQUEST with unknown flags',
      raw(MessageType.REQUEST, Buffer.concat([le64(2n), ids])),
      /REQUEST has unknown flags 0x2/,
    ],
    [
      'a CHUNK without data',
      raw(MessageType.CHUNK, Buffer.concat([le64(1n), ids.subarray(0, 32)])),
      /too short/,
    ],
    [
      'a CHUNK with unknown flags',
      raw(MessageType.CHUNK, Buffer.concat([le64(4n), ids, Buffer.alloc(1)])),
      /CHUNK has unknown flags 0x4/,
    ],
    ['a MISSING of the wrong size', raw(MessageType.MISSING, ids), /MISSING message has 80 bytes/],
    ['an ABORT without reason', raw(MessageType.ABORT, le64(1n)), /without a reason/],
    [
      'an ABORT reason not ended by NUL',
      raw(MessageType.ABORT, Buffer.concat([le64(1n), Buffer.from('oops')])),
      /not ended by NUL/,
    ],
    [
      'an ABORT reason with a newline',
      raw(MessageType.ABORT, Buffer.concat([le64(1n), Buffer.from('a\nb\0')])),
      /control characters/,
    ],
    [
      'an ABORT with a huge error number',
      raw(MessageType.ABORT, Buffer.concat([le64(0x7fffffffn), Buffer.from('x\0')])),
      /invalid error number/,
    ],
  ];

  it.each(cases)('%s', async (_name, bytes, reason) => {
    const err = await readError(bytes);
    expect(err.reason).toMatch(reason);
  });

  it('a stream that ends inside a header', async () => {
    const err = await readError(encodeMessage({ type: 'goodbye' }).subarray(0, 10));
    expect(err.reason).toMatch(/closed in the middle of a message \(6 bytes short\)/);
  });

  it('a stream that ends inside a body', async () => {
    const bytes = encodeMessage({ type: 'chunk', id: id(1), compressed: true, data: Buffer.alloc(100) });
    const err = await readError(bytes.subarray(0, bytes.length - 30));
    expect(err.reason).toMatch(/30 bytes short/);
  });

  it('fails on an oversized header without waiting for its body', async () => {
    const input = new PassThrough();
    input.write(raw(MessageType.CHUNK, new Uint8Array(0), BigInt(MAX_MESSAGE_SIZE * 4)));
    // The stream stays open: the reader must decide from the header alone.
    await expect(readMessages(input, 'peer.example').next()).rejects.toThrow(/claims 67108864 bytes/);
    input.destroy();
  });

  it('yields the messages before a malformed one', async () => {
    const input = Buffer.concat([encodeMessage({ type: 'hello', features: 1n }), raw(0x42n)]);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const m of readMessages([input], 'peer.example')) seen.push(m.type);
      })(),
    ).rejects.toThrow(ProtocolError);
    expect(seen).toEqual(['hello']);
  });

  it('ends quietly on an empty stream', async () => {
    expect(await readAll(new Uint8Array(0))).toEqual([]);
  });
});
