/**
 * Receives progress of a long operation. The CLI draws a bar on a terminal; library users
 * may log or ignore it. Calls come from the main thread, in order.
 */
export interface Progress {
  /** A phase begins; `total` is in the phase's unit (bytes or chunks). */
  start(label: string, total: number): void;
  /**
   * `done` units of the current phase are complete (absolute, not a delta). Extract adds
   * `from`: bytes so far by origin (seed, existing, self, zero, and each store's name).
   */
  update(done: number, from?: Readonly<Record<string, number>>): void;
  /** The phase is over. */
  stop(): void;
}

/** Progress that goes nowhere. */
export const NO_PROGRESS: Progress = { start() {}, update() {}, stop() {} };
