/** The events a streamx or Node writable emits that drained() listens to. */
interface Drainable {
  on(event: 'drain' | 'close' | 'error', listener: () => void): unknown;
  off(event: 'drain' | 'close' | 'error', listener: () => void): unknown;
}

/**
 * Resolves when `stream` drains, closes or fails (never rejects: the caller sees a failure
 * through `destroyed` or the stream's own callback), and leaves no listener behind.
 */
export function drained(stream: Drainable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
