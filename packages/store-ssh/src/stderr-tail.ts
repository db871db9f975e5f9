import type { Readable } from 'node:stream';

/** Bytes of a remote's stderr kept for error messages. */
const KEEP = 2048;

/**
 * Keeps the last bytes a stream wrote, for error messages: `text()` gives them as one line
 * (lines joined by `; `), and `ended` resolves when the stream ended or closed.
 */
export class StderrTail {
  private kept = Buffer.alloc(0);
  readonly ended: Promise<void>;

  constructor(stream: Readable) {
    stream.on('data', (piece: Buffer) => {
      const all = Buffer.concat([this.kept, piece]);
      this.kept = all.length > KEEP ? all.subarray(all.length - KEEP) : all;
    });
    this.ended = new Promise((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', resolve);
    });
  }

  /** What was kept, one line, '' when nothing. */
  text(): string {
    return this.kept
      .toString('utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join('; ');
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
export function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
