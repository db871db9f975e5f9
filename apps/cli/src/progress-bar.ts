import type { Progress } from '@desync/engine';
import { SingleBar } from 'cli-progress';

/** A progress bar on stderr when it is a terminal; nothing otherwise. */
export function progressBar(unit: 'bytes' | 'chunks' = 'bytes'): Progress | undefined {
  if (!process.stderr.isTTY) return undefined;
  let bar: SingleBar | undefined;
  const format =
    unit === 'bytes'
      ? '{label} [{bar}] {percentage}% | {mb}/{totalmb} MB | ETA {eta}s'
      : '{label} [{bar}] {value} chunks';
  let total = 0;
  return {
    start(label, t) {
      total = t;
      bar = new SingleBar({
        format,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        fps: 10,
      });
      bar.start(Math.max(1, t), 0, { label, mb: '0', totalmb: (t / 1e6).toFixed(0) });
    },
    update(done) {
      if (total === 0 && bar) bar.setTotal(Math.max(done, 1));
      bar?.update(done, { mb: (done / 1e6).toFixed(0) });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
