import { StoreError } from '@desync/core';
import { readMessages } from './message-reader.js';
import { MessageWriter } from './message-writer.js';
import { ProtocolFeature } from './protocol-constants.js';
import { ProtocolError } from './protocol-error.js';
import type { RemotePipes } from './pull-session.js';
import { openRemotePipes, remoteProgram, type SshConnectOptions } from './ssh-connect.js';
import { parseSshLocation, shellQuote } from './ssh-location.js';

/** Options of readSshIndex. */
export interface SshIndexOptions extends SshConnectOptions {
  /** The index: `ssh://[user@]host[:port]/path/x.caibx` or casync's `[user@]host:path`. */
  location: string;
  /** Larger indexes are refused before they fill memory. Default 1 GiB. */
  maxBytes?: number;
}

// As for index files read from disk, HTTP or S3 (load-index, store-http).
const MAX_INDEX_BYTES = 1024 * 1024 * 1024;

/**
 * Reads an index file from another machine as `casync extract ssh://host/x.caibx` does: runs
 * `casync pull - - 'PATH' -` (or CASYNC_REMOTE_PATH) there over the same transports as
 * SshStore and pulls the file with casync's protocol. Errors are StoreErrors naming the
 * location, with what the remote printed on stderr (e.g. that the file does not exist).
 */
export async function readSshIndex(options: SshIndexOptions): Promise<Uint8Array> {
  const location = parseSshLocation(options.location);
  const command = `${remoteProgram(options)} pull - - ${shellQuote(location.path)} -`;
  const pipes = await openRemotePipes(options.location, location, command, options);
  try {
    return await pullIndex(pipes, options.location, options.maxBytes ?? MAX_INDEX_BYTES);
  } finally {
    pipes.close();
  }
}

/**
 * The client side of one index pull on open pipes: HELLO asking for the index (PULL_INDEX),
 * then INDEX messages up to INDEX_EOF, answered with GOODBYE. `peer` names the remote in errors.
 */
export async function pullIndex(
  pipes: RemotePipes,
  peer: string,
  maxBytes: number = MAX_INDEX_BYTES,
): Promise<Uint8Array> {
  const writer = new MessageWriter(pipes.stdin);
  // A write to a remote that went away fails here; the read side reports why.
  pipes.stdin.on('error', () => {});
  writer.send({ type: 'hello', features: ProtocolFeature.PULL_INDEX }).catch(() => {});
  const parts: Uint8Array[] = [];
  let size = 0;
  let hello = false;
  /** Errors raised below for a well-formed but wrong message; the rest come from readMessages. */
  const own = new WeakSet<Error>();
  const mine = <E extends Error>(err: E): E => {
    own.add(err);
    return err;
  };
  const withStderr = async (reason: string): Promise<string> => {
    await pipes.settle();
    const stderr = pipes.stderrTail();
    return stderr ? `${reason}: ${stderr}` : reason;
  };
  try {
    for await (const message of readMessages(pipes.stdout, peer)) {
      if (message.type !== 'hello' && message.type !== 'abort' && !hello) {
        throw mine(new ProtocolError(peer, `protocol error: ${message.type.toUpperCase()} before HELLO`));
      }
      switch (message.type) {
        case 'hello':
          if (hello) throw mine(new ProtocolError(peer, 'protocol error: a second HELLO from the server'));
          if ((message.features & ProtocolFeature.READABLE_INDEX) === 0n) {
            throw mine(
              new ProtocolError(
                peer,
                `the remote offers no index (HELLO features 0x${message.features.toString(16)}); check the path`,
              ),
            );
          }
          hello = true;
          break;
        case 'index':
          size += message.data.length;
          if (size > maxBytes) throw mine(new StoreError(peer, `the index is larger than ${maxBytes} bytes`));
          parts.push(message.data);
          break;
        case 'index-eof':
          await writer.send({ type: 'goodbye' }).catch(() => {});
          writer.end();
          return Buffer.concat(parts);
        case 'abort':
          throw mine(
            new ProtocolError(peer, `the remote aborted: ${message.reason || `error ${message.error}`}`),
          );
        default:
          throw mine(
            new ProtocolError(
              peer,
              `protocol error: unexpected ${message.type.toUpperCase()} message while pulling an index`,
            ),
          );
      }
    }
  } catch (err) {
    if (own.has(err as Error)) throw err;
    // Output that broke off or garbage: what the remote printed on stderr usually says why.
    if (err instanceof ProtocolError)
      throw new ProtocolError(peer, await withStderr(err.reason), { cause: err });
    if (err instanceof StoreError) throw err;
    throw new StoreError(peer, await withStderr(`connection failed: ${(err as Error).message}`), {
      cause: err,
    });
  }
  throw new StoreError(
    peer,
    await withStderr(
      hello
        ? 'the remote closed the connection before the whole index arrived'
        : 'the remote closed the connection before HELLO',
    ),
  );
}
