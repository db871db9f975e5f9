import type { Writable } from 'node:stream';
import { encodeMessage, type ProtocolMessage } from './protocol-message.js';

/**
 * Writes protocol messages to a Node stream, honouring its backpressure: `send` resolves once
 * the stream took the bytes (or buffered them below its high-water mark).
 */
export class MessageWriter {
  constructor(private readonly output: Writable) {}

  /** Encodes and writes one message; rejects when the stream fails or is closed. */
  send(message: ProtocolMessage): Promise<void> {
    return this.write(encodeMessage(message));
  }

  /** Writes bytes already encoded. */
  write(bytes: Uint8Array): Promise<void> {
    const output = this.output;
    if (output.destroyed || output.writableEnded) {
      return Promise.reject(new Error('the connection is closed'));
    }
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err?: Error | null): void => {
        if (done) return;
        done = true;
        output.off('drain', onDrain);
        output.off('close', onClose);
        output.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => finish();
      const onClose = (): void => finish(new Error('the connection closed'));
      const onError = (err: Error): void => finish(err);
      output.on('close', onClose);
      output.on('error', onError);
      const flushed = output.write(bytes, (err) => {
        if (err) finish(err);
      });
      if (flushed) finish();
      else output.on('drain', onDrain);
    });
  }

  /** Ends the stream after what was written; does nothing when it is closed already. */
  end(): void {
    if (!this.output.destroyed && !this.output.writableEnded) this.output.end();
  }
}
