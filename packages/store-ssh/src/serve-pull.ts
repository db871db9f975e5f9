import type { Readable, Writable } from 'node:stream';
import { type ChunkId, ChunkMissing, type Store } from '@desync/core';
import { readMessages } from './message-reader.js';
import { MessageWriter } from './message-writer.js';
import { FEATURE_FLAGS_MAX, ProtocolFeature } from './protocol-constants.js';
import { ProtocolError } from './protocol-error.js';
import type { ProtocolMessage } from './protocol-message.js';

/** Options of servePull. */
export interface ServePullOptions {
  /** Names the client in errors. Default `pull client`. */
  peer?: string;
  /** Chunks read from the store at once. Default 8. */
  concurrency?: number;
  /** Ends `output` when the session is over (not wanted for process.stdout). Default true. */
  endOutput?: boolean;
  /**
   * Also serves an index file (`casync pull - - INDEX …`): called when a client asks for the
   * index (PULL_INDEX); its bytes go out as INDEX messages, then INDEX_EOF.
   */
  index?: () => Promise<Uint8Array>;
}

/** Bytes of index data per INDEX message (casync sends its index in pieces of this size). */
const INDEX_PIECE = 64 * 1024;

// errno values casync puts in ABORT (Linux): EBADMSG for malformed input, EOPNOTSUPP for an
// operation this server does not offer, EIO for a failing store.
const EBADMSG = 74;
const EOPNOTSUPP = 95;
const EIO = 5;

/** Chunk ids queued before the server stops reading requests until some are answered. */
const QUEUE_HIGH_WATER = 4096;

const OPERATIONS =
  ProtocolFeature.PULL_CHUNKS |
  ProtocolFeature.PULL_INDEX |
  ProtocolFeature.PULL_ARCHIVE |
  ProtocolFeature.PUSH_CHUNKS |
  ProtocolFeature.PUSH_INDEX |
  ProtocolFeature.PUSH_INDEX_CHUNKS |
  ProtocolFeature.PUSH_ARCHIVE;

/** Fails the session and tells the client why with an ABORT message. */
class SessionFailure extends Error {
  constructor(
    readonly errno: number,
    readonly reason: string,
    /** Undefined when the session ends without error (the client went away). */
    readonly error: Error | undefined,
  ) {
    super(reason);
  }
}

function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ABORT reasons must not hold control characters.
  return text.replace(/[\u0000-\u001f]+/g, ' ').slice(0, 4000);
}

/**
 * Serves `store` read-only to one client of casync's remote protocol, as `casync pull - - -
 * STORE` does over ssh: both sides send HELLO (this side offers a readable store, and a
 * readable index with `options.index`), then each REQUEST is answered per id with CHUNK (the
 * stored zstd frame, compressed flag set) or MISSING, in the order the store answers. A client
 * that asks for the index (PULL_INDEX) gets it right after the HELLOs. Without a store
 * (`undefined`) only the index is served. Resolves when the client sends GOODBYE or closes
 * the stream at a message boundary, after every queued id was answered.
 *
 * Rejects with ProtocolError, after sending ABORT, when the client breaks the protocol (a
 * malformed or unexpected message, an operation other than pulling chunks); messages are
 * checked whole before any id in them reaches the store. Rejects with ProtocolError when the
 * client sends ABORT, and with the store's error (after an ABORT naming it) when the store
 * fails other than with ChunkMissing. Nothing is read from the store after a failure.
 */
export async function servePull(
  store: Store | undefined,
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  output: Writable,
  options: ServePullOptions = {},
): Promise<void> {
  if (!store && !options.index) throw new TypeError('servePull needs a store or an index to serve');
  const peer = options.peer ?? 'pull client';
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const writer = new MessageWriter(output);
  /** Ids waiting for a worker: queue[head…]; a REQUEST may hold half a million. */
  let queue: ChunkId[] = [];
  let head = 0;
  const queued = (): number => queue.length - head;
  let active = 0;
  let failure: SessionFailure | undefined;
  /** Wakes the reading loop when the queue shrank or the session failed. */
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitForChange = (): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
    });

  let failed!: () => void;
  /** Resolves on the first failure, so a read waiting for input stops waiting. */
  const failedSignal = new Promise<undefined>((resolve) => {
    failed = () => resolve(undefined);
  });
  const fail = (f: SessionFailure): void => {
    failure ??= f;
    failed();
    notify();
  };

  /** A failure the client already knows about (it left or aborted): no ABORT is sent. */
  const quietFailure = (error: Error): SessionFailure => new SessionFailure(0, '', error);
  const clientAborted = (reason: string, errno: number): SessionFailure =>
    quietFailure(new ProtocolError(peer, `the client aborted: ${reason || `error ${errno}`}`));

  const answer = async (id: ChunkId): Promise<void> => {
    let message: ProtocolMessage;
    try {
      // Only reached with a store: a client without one is refused at HELLO.
      const chunk = await (store as Store).getChunk(id);
      message = { type: 'chunk', id, compressed: true, data: await chunk.compressedData() };
    } catch (err) {
      if (!(err instanceof ChunkMissing)) {
        const e = err instanceof Error ? err : new Error(String(err));
        throw new SessionFailure(EIO, `reading chunk ${id} failed: ${e.message}`, e);
      }
      message = { type: 'missing', id };
    }
    if (failure) return;
    try {
      await writer.send(message);
    } catch {
      // casync's client closes its pipes once it has what it needs, even with answers still
      // on the way: a client that left ends the session, it is not a failure.
      throw new SessionFailure(0, '', undefined);
    }
  };

  const pump = (): void => {
    while (!failure && active < concurrency && queued() > 0) {
      const id = queue[head++];
      if (head > 4096 && head * 2 > queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
      active++;
      answer(id)
        .catch((err: unknown) => {
          fail(
            err instanceof SessionFailure
              ? err
              : new SessionFailure(EIO, String(err), err instanceof Error ? err : new Error(String(err))),
          );
        })
        .finally(() => {
          active--;
          pump();
          notify();
        });
    }
  };

  const protocolFailure = (errno: number, reason: string): SessionFailure =>
    new SessionFailure(errno, reason, new ProtocolError(peer, `protocol error: ${reason}`));

  const offered =
    (store ? ProtocolFeature.READABLE_STORE : 0n) | (options.index ? ProtocolFeature.READABLE_INDEX : 0n);
  const served =
    (store ? ProtocolFeature.PULL_CHUNKS : 0n) | (options.index ? ProtocolFeature.PULL_INDEX : 0n);
  const servedText = [store ? 'chunks' : '', options.index ? 'an index' : ''].filter(Boolean).join(' and ');

  const sendIndex = async (read: () => Promise<Uint8Array>): Promise<void> => {
    let data: Uint8Array;
    try {
      data = await read();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      throw new SessionFailure(EIO, e.message, e);
    }
    try {
      for (let at = 0; at < data.length && !failure; at += INDEX_PIECE) {
        await writer.send({ type: 'index', data: data.subarray(at, at + INDEX_PIECE) });
      }
      if (!failure) await writer.send({ type: 'index-eof' });
    } catch {
      throw new SessionFailure(0, '', undefined); // the client left
    }
  };

  const run = async (): Promise<void> => {
    await writer.send({ type: 'hello', features: offered });
    const messages = readMessages(input, peer);
    let greeted = false;
    try {
      for (;;) {
        while (!failure && queued() >= QUEUE_HIGH_WATER) await waitForChange();
        if (failure) return;
        const next = await Promise.race([messages.next(), failedSignal]);
        if (next === undefined) return;
        if (next.done) {
          if (!greeted)
            throw quietFailure(new ProtocolError(peer, 'the client closed the connection before HELLO'));
          return;
        }
        const message = next.value;
        if (!greeted) {
          if (message.type === 'abort') throw clientAborted(message.reason, message.error);
          if (message.type !== 'hello')
            throw protocolFailure(EBADMSG, `expected HELLO, got ${message.type.toUpperCase()}`);
          const wanted = message.features & OPERATIONS;
          if ((wanted & served) === 0n) {
            throw protocolFailure(
              EOPNOTSUPP,
              `this server only serves ${servedText}, which the client does not ask for`,
            );
          }
          if ((wanted & ~served & FEATURE_FLAGS_MAX) !== 0n) {
            throw protocolFailure(
              EOPNOTSUPP,
              `this server only serves ${servedText}; it cannot serve the operations 0x${wanted.toString(16)} the client asked for`,
            );
          }
          greeted = true;
          if (options.index && (wanted & ProtocolFeature.PULL_INDEX) !== 0n) await sendIndex(options.index);
          continue;
        }
        switch (message.type) {
          case 'request':
            for (const id of message.ids) queue.push(id);
            pump();
            break;
          case 'goodbye':
            return;
          case 'abort':
            throw clientAborted(message.reason, message.error);
          default:
            throw protocolFailure(
              EBADMSG,
              `unexpected ${message.type.toUpperCase()} message from a pulling client`,
            );
        }
      }
    } finally {
      // Stops reading: a read may still be waiting for input that never comes.
      const stream = input as Partial<Readable>;
      if (typeof stream.destroy === 'function') stream.destroy();
      messages.return().catch(() => {});
    }
  };

  try {
    await run();
    // Answers every id queued before GOODBYE or the end of input.
    while (!failure && (queued() > 0 || active > 0)) await waitForChange();
  } catch (err) {
    if (err instanceof SessionFailure) fail(err);
    // readMessages throws ProtocolError for malformed or cut input: the client is told.
    else if (err instanceof ProtocolError) fail(new SessionFailure(EBADMSG, err.reason, err));
    // The input stream itself failed: nobody is left to tell.
    else fail(quietFailure(err instanceof Error ? err : new Error(String(err))));
  }
  if (failure) {
    // Stops the workers before anything else reaches the store; those reading finish first.
    queue = [];
    head = 0;
    while (active > 0) await waitForChange();
    if (failure.errno !== 0) {
      await writer
        .send({ type: 'abort', error: failure.errno, reason: printable(failure.reason) })
        .catch(() => {});
    }
    if (options.endOutput ?? true) writer.end();
    if (failure.error) throw failure.error;
    return;
  }
  if (options.endOutput ?? true) writer.end();
}
