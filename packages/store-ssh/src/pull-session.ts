import type { Readable, Writable } from 'node:stream';
import { type ChunkId, StoreError } from '@desync/core';
import { readMessages } from './message-reader.js';
import { MessageWriter } from './message-writer.js';
import { ProtocolFeature } from './protocol-constants.js';
import { ProtocolError } from './protocol-error.js';

/** What the remote answered for one id: the chunk bytes, or undefined when it is missing. */
export type PullAnswer = { readonly compressed: boolean; readonly data: Uint8Array } | undefined;

/** The two pipes of a remote `casync pull` (an ssh channel or a local ssh process). */
export interface RemotePipes {
  /** The remote's stdout: protocol messages from the server. */
  readonly stdout: Readable;
  /** The remote's stdin. */
  readonly stdin: Writable;
  /** The end of what the remote wrote to stderr, for error messages ('' when nothing). */
  stderrTail(): string;
  /** Resolves once the remote's stderr ended or after a short wait, so stderrTail() is complete. */
  settle(): Promise<void>;
  /** Stops the remote and frees the connection; idempotent. */
  close(): void;
}

interface Waiter {
  resolve(answer: PullAnswer): void;
  reject(err: Error): void;
}

/** Ids sent in one REQUEST message at most (casync sends up to about 64 KiB of ids). */
const MAX_IDS_PER_REQUEST = 2048;

/**
 * The client side of one casync protocol session: HELLO asking to pull chunks, then REQUEST
 * messages answered by CHUNK or MISSING in any order. Requests are pipelined: ids asked for in
 * the same tick go out in one REQUEST, and any number may be outstanding. A remote that breaks
 * the protocol, aborts, or goes away fails every outstanding request with an error naming
 * `peer`, and the session stays failed.
 */
export class PullSession {
  /** Outstanding ids and who waits for each. */
  private readonly waiting = new Map<ChunkId, Waiter[]>();
  private batch: ChunkId[] = [];
  private readonly writer: MessageWriter;
  private failure: Error | undefined;
  private closed = false;
  /** Resolves once the server's HELLO arrived and offers a readable store. */
  readonly ready: Promise<void>;

  constructor(
    private readonly pipes: RemotePipes,
    private readonly peer: string,
  ) {
    this.writer = new MessageWriter(pipes.stdin);
    // A write to a remote that went away fails here; the read side reports why.
    pipes.stdin.on('error', () => {});
    let greeted!: () => void;
    let refused!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      greeted = resolve;
      refused = reject;
    });
    this.ready.catch(() => {});
    this.writer.send({ type: 'hello', features: ProtocolFeature.PULL_CHUNKS }).catch(() => {});
    this.run(greeted).catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      refused(error);
      this.fail(error);
    });
  }

  /** Outstanding ids. */
  get load(): number {
    return this.waiting.size;
  }

  /** False once the session failed or was closed. */
  get usable(): boolean {
    return !this.failure && !this.closed;
  }

  /**
   * Asks for one chunk. casync's server answers each id once per session, so callers must not
   * ask a session twice for an id it answered (SshStore moves such requests to another session).
   */
  async request(id: ChunkId): Promise<PullAnswer> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new StoreError(this.peer, 'the session is closed');
    return new Promise<PullAnswer>((resolve, reject) => {
      const waiters = this.waiting.get(id);
      if (waiters) {
        waiters.push({ resolve, reject });
        return;
      }
      this.waiting.set(id, [{ resolve, reject }]);
      if (this.batch.length === 0) queueMicrotask(() => this.flush());
      this.batch.push(id);
    });
  }

  /** Ends the session politely (GOODBYE), then closes the pipes; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new StoreError(this.peer, 'the session was closed while a chunk was being fetched'));
    try {
      await Promise.race([
        this.writer.send({ type: 'goodbye' }),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
    } catch {
      // The remote is gone already.
    }
    this.writer.end();
    this.pipes.close();
  }

  private flush(): void {
    const ids = this.batch;
    this.batch = [];
    if (ids.length === 0 || this.failure) return;
    this.ready
      .then(async () => {
        for (let at = 0; at < ids.length; at += MAX_IDS_PER_REQUEST) {
          await this.writer.send({
            type: 'request',
            highPriority: false,
            ids: ids.slice(at, at + MAX_IDS_PER_REQUEST),
          });
        }
      })
      .catch((err: unknown) => {
        this.fail(this.failure ?? this.lost(`sending a request failed: ${(err as Error).message}`));
      });
  }

  private async run(greeted: () => void): Promise<void> {
    let hello = false;
    /** Errors raised below for a well-formed but wrong message; the rest come from readMessages. */
    const own = new WeakSet<Error>();
    const mine = (reason: string): ProtocolError => {
      const err = new ProtocolError(this.peer, reason);
      own.add(err);
      return err;
    };
    try {
      for await (const message of readMessages(this.pipes.stdout, this.peer)) {
        switch (message.type) {
          case 'hello':
            if (hello) throw mine('protocol error: a second HELLO from the server');
            if ((message.features & ProtocolFeature.READABLE_STORE) === 0n) {
              throw mine(
                `the remote does not offer a chunk store (HELLO features 0x${message.features.toString(16)}); check the store path`,
              );
            }
            hello = true;
            greeted();
            break;
          case 'chunk':
          case 'missing': {
            if (!hello) throw mine(`protocol error: ${message.type.toUpperCase()} before HELLO`);
            const waiters = this.waiting.get(message.id);
            // An answer nobody waits for (the caller gave up) is dropped.
            if (!waiters) break;
            this.waiting.delete(message.id);
            const answer: PullAnswer =
              message.type === 'chunk' ? { compressed: message.compressed, data: message.data } : undefined;
            for (const w of waiters) w.resolve(answer);
            break;
          }
          case 'abort':
            throw mine(`the remote aborted: ${message.reason || `error ${message.error}`}`);
          case 'goodbye':
            throw this.lost('the remote said goodbye');
          default:
            throw mine(`protocol error: unexpected ${message.type.toUpperCase()} message from the server`);
        }
      }
    } catch (err) {
      if (err instanceof ProtocolError && !own.has(err)) {
        // What the remote printed on stderr (or how it exited) usually says why its output
        // broke off; garbage before HELLO is mostly a login script printing to stdout.
        await this.pipes.settle();
        const stderr = this.pipes.stderrTail();
        const hint = hello
          ? ''
          : ' (is this casync? a login script that prints text also breaks the protocol)';
        throw new ProtocolError(this.peer, `${err.reason}${hint}${stderr ? `: ${stderr}` : ''}`, {
          cause: err,
        });
      }
      if (err instanceof StoreError) throw err;
      await this.pipes.settle();
      throw this.lost(`connection failed: ${(err as Error).message}`, err);
    }
    await this.pipes.settle();
    throw this.lost(
      hello ? 'the remote closed the connection' : 'the remote closed the connection before HELLO',
    );
  }

  /** A StoreError for a lost connection, with what the remote printed on stderr. */
  private lost(what: string, cause?: unknown): StoreError {
    const stderr = this.pipes.stderrTail();
    return new StoreError(this.peer, stderr ? `${what}: ${stderr}` : what, { cause });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    this.batch = [];
    for (const waiters of waiting) for (const w of waiters) w.reject(this.failure);
    if (!this.closed) {
      this.closed = true;
      this.pipes.close();
    }
  }
}
